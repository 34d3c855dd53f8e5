// Batch models (batch_model.cpp): planned from the manifest of processed batches and the change
// log's ranges (or a count of the source's batches), plus the keys UPDATE and DELETE queued; a
// refresh recomputes the touched keys, a rebuild everything. A peer of time_model.hpp and
// features_model.hpp behind model_ops.cpp's dispatch.
#pragma once

#include <cstdint>
#include <vector>

#include "pg/catalog/model_catalog.hpp"
#include "pg/models/model_ops.hpp"
#include "pg/models/run_driver.hpp"

namespace incmodel::pg {

// One refresh under the model lock (a rebuild when the log says the source changed in a way it
// cannot describe, or a batch lost rows that counting cannot attribute).
RefreshOutcome refresh_batch_model(SpiConnection &spi, const ModelRecord &m);

// The rebuild's units inside a run: every batch counted, every row recomputed, swapped in with
// the manifest. Returns the rows inserted.
std::int64_t rebuild_batch_model(RunDriver &driver, const ModelRecord &m);

// What the next refresh would do (as the model's owner).
std::vector<ExplainRow> explain_batch_model(const ModelRecord &m);

// Batches and events waiting for the next refresh (as the model's owner).
Pending pending_batch_model(const ModelRecord &m);

}  // namespace incmodel::pg
