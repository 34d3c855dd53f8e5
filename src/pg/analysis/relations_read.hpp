// The relations a model's query reads besides its source: joined dimensions, context tables,
// identity maps, tables in subqueries and CTEs, and the tables behind the views it reads. A change
// to any of them can change the model's rows without a new event, so each is watched
// (capture/dimension_triggers.cpp).
#pragma once

#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// The tables (ordinary, partitioned, foreign) the stored query tree reads, views resolved to
// the tables their rules read, the source and system catalogs left out, in OID order.
std::vector<Oid> relations_read(const std::string &query_tree, Oid source);

}  // namespace incmodel::pg
