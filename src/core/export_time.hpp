// The deployable packages of daily aggregate, append and features models, rendered as the batch
// package is (export_package.hpp) but with the state those models keep: for time-based models a
// range manifest of load-time ranges (lower, upper] instead of batches, and for a daily model the
// late-events ledger per event day; for a features model the runs of its inputs' touched-key logs
// it consumed (export_features.cpp). PostgreSQL-free.
//
// The procedures follow src/pg/models/time_model.cpp and features_model.cpp run for run: the
// same load range (from the last upper limit, or start_date, at most backfill_limit further and
// never past the oldest writer still in flight on the source), the same late rule, the same
// full-day reprocessing and inclusion rule, the same keys recomputed, so that a package refreshed
// after the same loads holds the same rows as the extension's model. A daily or append package
// also has incmodel."backfill_<model>"(range_start, range_end), the extension's backfill(name,
// from, to): the days (daily) or the events loaded (append) in [range_start, range_end) rebuilt
// from the rows loaded up to the recorded upper limit, in one transaction, the range manifest
// unchanged; deployed as the last ddl part (the package format's procedure part is the refresh).
// What the extension does and a package cannot: rows committed behind a limit (the extension's
// change log) and UPDATE/DELETE/TRUNCATE of the source are not seen; rebuild() and per-run
// overrides of reprocess_days / min_rows_to_process do not exist (docs/REDSHIFT.md).
#pragma once

#include <string>
#include <vector>

#include "core/export_package.hpp"

namespace incmodel::core {

// What the daily, append and features packages share: the keys scratch filled from the
// source, the recompute of those keys through the user's query, their commit and the run record.
class KindPackage : public PackageRenderer {
  public:
    KindPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote);

  protected:
    std::string and_filter() const;   // " AND (source filter)" or ""
    std::string key_columns() const;  // k1, k2, ...
    std::string key_exprs() const;    // the key parts over the source
    std::string delete_scratch(const std::vector<std::string> &suffixes) const;
    // "INSERT INTO rows ..." of the user's query over the source rows of the touched keys (joined
    // to extra_joins, which must not repeat a row, and kept by filter, " AND ..."); wrap_head and
    // wrap_tail surround the restricted rows (append's deduplication).
    std::string recompute(const std::string &extra_joins, const std::string &filter,
                          const std::string &wrap_head = "",
                          const std::string &wrap_tail = "") const;
    // LOCK (redshift), DELETE the touched keys, INSERT the rows, log the keys for dependents.
    std::string replace_keys() const;
    std::string finish() const;  // run_log row and the RAISE the CLI reads
};

// What daily and append packages share: the range manifest and the load range of a run.
class TimePackage : public KindPackage {
  public:
    TimePackage(ModelSpec spec, ExportOptions options, IdentQuoter quote);

    // render() with the backfill procedure as the last ddl part (steps renumbered).
    std::vector<PackagePart> render_with_backfill() const;
    // CREATE OR REPLACE PROCEDURE incmodel."backfill_<model>"(range_start, range_end).
    std::string backfill_procedure() const;
    std::string backfill_name() const;              // incmodel.<quoted backfill_<model>>
    virtual std::string backfill_body() const = 0;  // between the dollar quotes

  protected:
    std::vector<std::string> state_tables() const override;
    std::vector<QualifiedName> maintained_relations() const override;

    std::string ts_type() const;                         // TIMESTAMP / timestamptz
    std::string start() const;                           // start_date as a limit
    std::string load() const;                            // alias.load_column
    std::string as_load(const std::string &expr) const;  // a limit compared with the load
    std::string in_range(const char *lower_op, const std::string &lower) const;
    std::string declare_common() const;  // DECLARE ... common variables
    std::string lock_and_range() const;  // lock, v_lower, v_upper
    // A backfill's lock, its range checked into v_from / v_to, v_lower = v_upper = the last
    // upper limit (an error when the model never ran).
    std::string backfill_range() const;
    std::string as_date(const std::string &expr) const;  // a limit's day
    std::string ledger() const;                          // incmodel.ledger_<model> (daily)
};

// A daily aggregate model: rows loaded in the run's range that are not late, every row of a day
// whose skipped count reached min_rows_to_process, the ledger per event day.
class DailyPackage : public TimePackage {
  public:
    DailyPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote);
    std::string procedure_body() const override;
    std::string backfill_body() const override;

  protected:
    std::vector<std::string> state_tables() const override;
    std::vector<QualifiedName> maintained_relations() const override;
    int variable_count() const override { return 19; }

  private:
    std::string body(bool backfill) const;                // refresh, or backfill of days
    std::string day() const;                              // the event day of a source row
    std::string not_late(const std::string &days) const;  // not late under days
};

// An event-level model: the first duplicate of each event key by the load column (then
// dvce_created_tstamp when the source has it) among the rows loaded since start_date.
class AppendPackage : public TimePackage {
  public:
    AppendPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote);
    std::string procedure_body() const override;
    std::string backfill_body() const override;

  protected:
    int variable_count() const override { return 16; }

  private:
    std::string recompute_first_duplicates() const;
};

// A features model: the keys its inputs' packages logged since its last run (each input's
// incmodel.touched_<input>, read from the run number it recorded per input in its manifest),
// projected on its key, recomputed from the inputs' targets; its first run builds it in full.
class FeaturesPackage : public KindPackage {
  public:
    FeaturesPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote);
    std::string procedure_body() const override;

  protected:
    std::vector<std::string> state_tables() const override;
    std::vector<QualifiedName> maintained_relations() const override;
    int variable_count() const override {
        return 12 + 2 * static_cast<int>(options_.inputs.size());
    }

  private:
    std::string projected_keys(std::size_t input) const;  // SELECT of one input's logged keys
};

// The package of any exportable model: a batch model's (PackageRenderer), a daily or append
// model's, a features model's. Throws ExportError.
std::vector<PackagePart> render_package(const ModelSpec &spec, const ExportOptions &options,
                                        const IdentQuoter &quote);

}  // namespace incmodel::core
