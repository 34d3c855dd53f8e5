// The statements of a retention pass on a source (src/pg/maintenance/retention.cpp runs them as
// the source's owner). The arguments are already quoted: the source as its regclass text, the
// columns by quote_identifier; batch_type is the batch column's type as format_type gives it.
#pragma once

#include <string>

namespace incmodel::core {

// SELECT batch value (text), event count of the whole batches all of whose events are older
// than keep ($1 interval).
std::string retention_old_batches(const std::string &source, const std::string &batch_column,
                                  const std::string &time_column);

// DELETE at most $2 (int) events of the batches $1 (text[]) older than keep ($3 interval): an
// event that arrived in an expiring batch since it was marked, with a recent time, stays.
std::string retention_delete_chunk(const std::string &source, const std::string &batch_column,
                                   const std::string &batch_type, const std::string &time_column);

// SET CONSTRAINTS list IMMEDIATE (list: qualified constraint names, comma-separated).
std::string constraints_immediate(const std::string &list);

}  // namespace incmodel::core
