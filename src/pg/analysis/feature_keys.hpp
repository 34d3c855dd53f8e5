// A features model's key parts as functions of its input's key: each part must read only key
// columns of the input's target (a plain copy such as user_id, or an immutable expression such as
// date_trunc('month', day::timestamp)::date), so that the input's touched keys, projected through
// it, name every row of the features model to recompute.
#pragma once

#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// The alias the stored projections read the input's touched keys under (reserved: user aliases
// starting with _incmodel are refused).
inline constexpr const char *kFeatureInputAlias = "_incmodel_input";

// Raises 42P10 when the key part `column` (expr, over the source range table entry source_rti of
// relation source) reads a column of the input that is not one of input_keys, and 42P17 when it is
// not immutable (it is evaluated at the input's commit, under that run's settings).
void require_function_of_input_keys(Node *expr, const std::string &column, int source_rti,
                                    Oid source, const std::vector<std::string> &input_keys);

}  // namespace incmodel::pg
