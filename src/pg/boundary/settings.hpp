// incmodel's settings (GUCs) and the per-transaction settings a refresh pins.
#pragma once

#include <string>

#include "pg/boundary/fault_hook.hpp"  // maybe_inject_failure(), called by the run driver
#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// incmodel.progress_notices: emit a NOTICE as each refresh step ends.
extern bool progress_notices;
// incmodel.dimension_values_limit: most values noted per watched relation and transaction.
extern int dimension_values_limit;

// Maintenance thresholds (defaults for models without their own) and the worker's settings.
extern double vacuum_dead_ratio;
extern int vacuum_dead_min;
extern double analyze_mod_ratio;
extern int analyze_mod_min;
extern int maintenance_naptime;      // seconds between worker cycles; 0 turns the worker off
extern char *maintenance_database;   // the database the worker maintains
extern int maintenance_time_budget;  // seconds of work the worker starts per cycle

void define_settings();

// Sets a setting for the current GUC nest level (undone with it), as SET LOCAL would.
void set_local_setting(const char *name, const char *value);
// Sets a setting until the end of the current transaction, outside any nest level.
void set_transaction_setting(const char *name, const char *value);

// Pins search_path, DateStyle, IntervalStyle and the model's TimeZone for generated SQL, in a
// GUC nest level that close() (or the end of the (sub)transaction) undoes.
class PinnedSettings {
  public:
    explicit PinnedSettings(const std::string &timezone);
    ~PinnedSettings();
    PinnedSettings(const PinnedSettings &) = delete;
    PinnedSettings &operator=(const PinnedSettings &) = delete;
    void close();

  private:
    int nest_level_;
    bool open_;
    int uncaught_at_start_;
};

}  // namespace incmodel::pg
