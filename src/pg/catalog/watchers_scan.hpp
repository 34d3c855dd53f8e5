// The models watching a set of relations, read from incmodel.model_dimensions and incmodel.models
// by index scans, without SPI: a writer's commit asks in every fresh connection that changed a
// watched relation (the row triggers' notes), where parsing and planning the equivalent join cost
// about 1 ms of a 100k-row COPY's ~190 (bench/dimension_ingest.sh).
#pragma once

#include <optional>
#include <vector>

#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

// models_watching(relids) read by index (same rows, order by name then relation), or nullopt
// when the catalog's indexes are not the expected ones (the caller then runs the query).
std::optional<std::vector<DimensionWatcher>> scan_models_watching(const std::vector<Oid> &relids);

}  // namespace incmodel::pg
