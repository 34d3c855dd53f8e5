// Which column of the source a daily model's day key is a monotone function of, so that a
// recompute can read the touched days by a range of that column (core::DayRange).
#pragma once

#include <optional>
#include <string>

#include "core/model_spec.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// The day key's source expression (over range table entry source_rti) as a range of one plain
// column of the source, or nullopt when it is not a chain of the known date and timestamp casts,
// date_trunc to a day or less and AT TIME ZONE over one column. timezone: the model's pinned
// TimeZone (the ::date of a timestamptz depends on it).
std::optional<core::DayRange> day_range_of(Node *expr, int source_rti, Oid source,
                                           const std::string &timezone);

}  // namespace incmodel::pg
