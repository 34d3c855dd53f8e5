// Retention in incmodel's catalog: the rules (incmodel.retention), the models reading a source and
// their manifests as retention checks them, and the batches a pass marks expiring
// (incmodel.retention_expiring) and then forgets. Every statement runs as the catalog owner and
// takes its values as parameters; the source itself is read and deleted from in
// src/pg/maintenance/retention.cpp, as its owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// A source's retention: events older than keep (by time_column) go, chunk_rows at a time.
struct RetentionRule {
    Oid source = InvalidOid;
    std::string keep;  // interval text
    std::string time_column;
    int chunk_rows = 0;
};

// apply_retention works through the rules in force: of one source, or of all (by source name).
std::vector<RetentionRule> retention_rules(std::optional<Oid> source);

// set_retention records a source's rule, replacing the one it had.
void store_retention_rule(const RetentionRule &rule);

// set_retention with keep NULL removes the source's rule.
void delete_retention_rule(Oid source);

// set_retention's default time column: a window column of a model of source, else a batch column.
std::optional<std::string> default_retention_column(Oid source);

// A model reading a source, as retention sees it.
struct SourceModel {
    std::int64_t id = 0;
    std::string name;
    std::string batch_column, batch_type;
};

// A pass locks, checks and forgets the batches of every model reading the source (by model id).
std::vector<SourceModel> models_reading(Oid source);

// A model that could recompute a key from events retention deletes, with why.
struct HistoryAtRisk {
    std::string model;
    std::string why;
};

// Retention refuses a source whose models could lose history: the first such model, if any.
std::optional<HistoryAtRisk> model_losing_history(Oid source, const std::string &keep,
                                                  const std::string &time_column);

// A batch of the source and how many events it has.
struct BatchEvents {
    std::string batch_value;
    std::int64_t events = 0;
};

// Only a batch every model has processed whole (its manifest count covers every event) may go.
std::vector<std::string> batches_processed_by_all(const std::vector<BatchEvents> &batches,
                                                  const std::vector<std::int64_t> &model_ids);

// A pass finishes the batches an interrupted one marked expiring and did not delete.
std::vector<std::string> expiring_batches(const std::vector<std::int64_t> &model_ids);

// Marked before the first DELETE: refreshes treat them as neither new nor shrunk until done.
void mark_batches_expiring(const std::vector<std::int64_t> &model_ids,
                           const std::vector<std::string> &batches);

// Deleted batches leave the manifests and the marks, and are logged again for change-log models.
void forget_expired_batches(Oid source, const std::string &batch_column,
                            const std::vector<std::int64_t> &model_ids,
                            const std::vector<std::string> &batches);

}  // namespace incmodel::pg
