#include "pg/models/model_ops.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/models/time_model.hpp"
#include "pg/models/features_model.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/source_triggers.hpp"

namespace incmodel::pg {

namespace {

core::RefreshPlanner planner_for(const ModelRecord &m) {
    return {m.spec, quote_ident};
}

void exec_all(const std::vector<std::string> &statements) {
    for (const auto &s : statements) spi_exec(s);
}

// now() - lookback, as text in the pinned DateStyle/TimeZone; nullopt without a window.
std::optional<std::string> window_cutoff(const ModelRecord &m) {
    if (!m.spec.window_column || !m.lookback) return std::nullopt;
    return spi_exec("SELECT (now() - $1::interval)::text", {SqlParam::value(*m.lookback)}).scalar();
}

std::vector<SqlParam> cutoff_params(const std::optional<std::string> &cutoff) {
    if (!cutoff) return {};
    return {SqlParam::value(*cutoff)};
}

void require_interval_not_negative(const std::optional<std::string> &lookback) {
    if (!lookback) return;
    bool negative =
        spi_exec("SELECT $1::interval < interval '0'", {SqlParam::value(*lookback)}).scalar() ==
        std::optional<std::string>("t");
    if (negative)
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE, "incmodel: lookback must not be negative",
                        "lookback is " + *lookback + ".",
                        "Use a positive interval such as '7 days', or NULL for no window.");
}

// The planner is not left to chance for the per-key steps: when few keys are touched (fewer
// than a twentieth of the source's rows) and the source has an index led by the key's column,
// hash and merge joins are switched off for the recompute and delete, so they look keys up
// through the indexes instead of scanning whole tables on a misjudged estimate.
bool steer_to_index_lookups(const ModelRecord &m, std::int64_t keys) {
    if (keys <= 0) return false;
    const std::string prefix = quote_ident(m.spec.source_alias) + ".";
    const std::string &expr = m.spec.keys[0].source_expr;
    if (expr.rfind(prefix, 0) != 0) return false;
    SqlResult r = spi_exec(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON "
        "a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::oid AND "
        "pg_catalog.quote_ident(a.attname) = $2), (SELECT reltuples FROM pg_catalog.pg_class WHERE "
        "oid = $1::oid) > 20 * $3::float8",
        {SqlParam::value(std::to_string(m.source_oid)), SqlParam::value(expr.substr(prefix.size())),
         SqlParam::value(std::to_string(keys))});
    return r.rows[0][0] == std::optional<std::string>("t") &&
           r.rows[0][1] == std::optional<std::string>("t");
}

void use_index_lookups() {
    set_local_setting("enable_hashjoin", "off");
    set_local_setting("enable_mergejoin", "off");
}

// Where the next plan's pending batches come from: the change log when the model has one and
// a committed plan to start from (only the batches in the logged ranges are counted, and the
// NULL batch when the log saw NULL batch values), else a count of the source's batches. nothing
// is set when the log shows no change at all. select_sql gives the new or grown batches
// (status); changed_sql and insert_sql every batch whose count changed, shrunk ones included.
struct PendingQuery {
    bool used_log = false;
    bool nothing = false;
    std::string select_sql, changed_sql, insert_sql;
    std::vector<SqlParam> params;
    // The batch ranges of rows UPDATE and DELETE changed since the last plan (their keys were
    // queued): recounted for the manifest by recount_sql, after insert_sql. Empty: none.
    std::string recount_sql;
    std::vector<SqlParam> recount_params;
};

// The batch column's collation when it is not its type's default (read from the catalog at each
// plan, so it follows ALTER COLUMN ... COLLATE): the change log's ranges were ordered by it.
std::optional<core::QualifiedName> batch_collation(const ModelRecord &m) {
    SqlResult r = spi_exec(
        "SELECT n.nspname::pg_catalog.text, c.collname::pg_catalog.text FROM "
        "pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) "
        "a.atttypid JOIN pg_catalog.pg_collation c ON c.oid OPERATOR(pg_catalog.=) a.attcollation "
        "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.collnamespace WHERE "
        "a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND a.attname OPERATOR(pg_catalog.=) "
        "$2::pg_catalog.name AND a.attcollation OPERATOR(pg_catalog.<>) t.typcollation",
        {SqlParam::value(std::to_string(m.source_oid)), SqlParam::value(m.spec.batch_column)});
    if (r.rows.empty()) return std::nullopt;
    return core::QualifiedName{*r.rows[0][0], *r.rows[0][1]};
}

PendingQuery pending_query(const ModelRecord &m, const core::RefreshPlanner &planner,
                           const std::optional<std::string> &cutoff) {
    PendingQuery q;
    const SqlParam model_id = SqlParam::value(std::to_string(m.spec.id));
    q.used_log = m.change_log && m.planned_snapshot && change_trigger_active(m);
    if (!q.used_log) {
        q.select_sql = planner.pending_batches();
        q.changed_sql = planner.changed_batches();
        q.insert_sql = planner.find_batches();
        q.params = {model_id};
        if (cutoff) q.params.push_back(SqlParam::value(*cutoff));
        return q;
    }
    SqlResult ranges;
    {
        // The log is catalog: read as its owner, its values go on to the model's SQL as
        // parameters. Only 'insert' rows carry batch ranges; a row's nulls counts the rows it
        // logged whose batch value was NULL (a statement may have logged nothing else).
        AsCatalogOwner owner;
        ranges = spi_exec(
            "SELECT lo, hi, nulls OPERATOR(pg_catalog.>) 0, kind OPERATOR(pg_catalog.=) "
            "'recount' FROM incmodel.source_changes WHERE "
            "source = $1::pg_catalog.oid AND batch_column = $2 AND txid >= "
            "pg_catalog.pg_snapshot_xmin($3::pg_catalog.pg_snapshot) AND NOT "
            "pg_catalog.pg_visible_in_snapshot(txid, $3::pg_catalog.pg_snapshot) AND kind "
            "OPERATOR(pg_catalog.=) ANY ('{insert,recount}'::pg_catalog.text[]) AND (lo IS NOT "
            "NULL OR nulls OPERATOR(pg_catalog.>) 0)",
            {SqlParam::value(std::to_string(m.source_oid)), SqlParam::value(m.spec.batch_column),
             SqlParam::value(*m.planned_snapshot)});
    }
    std::vector<std::string> los, his, recount_los, recount_his;
    bool nulls = false, recount_nulls = false, recount = false;
    for (const auto &row : ranges.rows) {
        const bool changed = row[3] == std::optional<std::string>("t");
        recount = recount || changed;
        if (row[2] == std::optional<std::string>("t")) (changed ? recount_nulls : nulls) = true;
        if (!row[0]) continue;
        (changed ? recount_los : los).push_back(*row[0]);
        (changed ? recount_his : his).push_back(*row[1]);
    }
    q.nothing = los.empty() && !nulls && !recount;
    // The ranges are merged under the batch column's collation, the order the trigger used.
    core::ModelSpec spec = m.spec;
    spec.batch_collation = batch_collation(m);
    core::RefreshPlanner ranged(spec, quote_ident);
    q.select_sql = ranged.pending_batches_in_ranges();
    q.changed_sql = ranged.changed_batches_in_ranges();
    q.insert_sql = ranged.find_batches_in_ranges();
    q.params = {model_id, SqlParam::text_array(los), SqlParam::text_array(his),
                SqlParam::value(nulls ? "true" : "false"),
                SqlParam::value(recount ? "true" : "false")};
    if (recount) {
        q.recount_sql = ranged.find_recounted_batches();
        q.recount_params = {model_id, SqlParam::text_array(recount_los),
                            SqlParam::text_array(recount_his),
                            SqlParam::value(recount_nulls ? "true" : "false")};
    }
    return q;
}

// A batch that lost rows since the manifest recorded it (shrunk, or gone from the source) cannot
// be refreshed by keys: the deleted rows' keys are not among the remaining events. The plan then
// turns the run into a rebuild: a NOTICE says why, and the run is recorded as kind 'rebuild'.
bool rebuild_for_lost_rows(const ModelRecord &m, const core::RefreshPlanner &planner,
                           RunRecord &run) {
    SqlResult shrunk = spi_exec(planner.shrunk_batches());
    if (shrunk.rows.empty()) return false;
    const std::string msg = fmt::format(
        "incmodel: model \"{}\": {} batch(es) lost rows since they were processed; this refresh "
        "rebuilds the model",
        m.spec.name, *shrunk.rows[0][0]);
    const std::string detail = fmt::format(
        "Batch {} had {} events and now has {}. The keys of deleted rows cannot be found from "
        "the remaining events.",
        shrunk.rows[0][1] ? *shrunk.rows[0][1] : std::string("NULL"), *shrunk.rows[0][2],
        *shrunk.rows[0][3]);
    report(NOTICE, msg, detail,
           "Load the source with INSERT or COPY only to keep refreshes incremental.");
    AsCatalogOwner owner;
    spi_exec("UPDATE incmodel.runs SET kind = 'rebuild' WHERE run_id = $1::pg_catalog.int8",
             {SqlParam::int64(run.run_id)});
    return true;
}

// A model with a change log that plans by counting says why: its recorded snapshot was taken
// elsewhere (a restore) or is missing, or its capture triggers are missing or not enabled ALWAYS
// (the log may lack loads, so the source's batches are counted).
void notice_log_not_used(const ModelRecord &m) {
    const std::string msg = "incmodel: model \"" + m.spec.name + "\" counts the batches of " +
                            core::qualified(quote_ident, m.spec.source) +
                            " instead of reading the change log";
    const std::string detail =
        m.planned_snapshot
            ? "Its capture triggers are missing, disabled or not enabled ALWAYS."
            : "It has no plan snapshot of this database yet (first plan after a restore).";
    const std::string hint =
        m.planned_snapshot
            ? "Enable them again (ALTER TABLE ... ENABLE ALWAYS TRIGGER incmodel_...), or drop and "
              "create the model to recreate them."
            : "The next refresh reads the change log again.";
    report(NOTICE, msg, detail, hint);
}

// What a refresh's plan found: the batches whose keys are collected (new, grown, or every batch
// the inserts touched when rows were also changed), with their new events, and how many batches
// are recounted only (rows changed by UPDATE or DELETE, whose keys were queued).
struct PlannedBatches {
    std::string snapshot;  // taken before: the commit records it as where the next plan starts
    bool used_log = false;
    std::vector<std::optional<std::string>> collected;  // nullopt: the NULL batch
    std::int64_t new_events = 0;
    std::int64_t recounted = 0;
};

// Fills the batches scratch with the batches to process, then with the batches to recount.
PlannedBatches plan_batches(const ModelRecord &m, const core::RefreshPlanner &planner,
                            const std::optional<std::string> &cutoff) {
    PlannedBatches p;
    p.snapshot = capture_snapshot();
    PendingQuery q = pending_query(m, planner, cutoff);
    p.used_log = q.used_log;
    if (m.change_log && !p.used_log) notice_log_not_used(m);
    if (q.nothing) return p;
    spi_exec(q.insert_sql, q.params);
    for (const auto &row :
         spi_exec("SELECT batch_value, event_count - coalesce(recorded_count, 0) FROM " +
                  core::qualified(quote_ident, planner.scratch().batches))
             .rows) {
        p.collected.push_back(row[0]);
        p.new_events += std::stoll(*row[1]);
    }
    if (!q.recount_sql.empty())
        p.recounted =
            static_cast<std::int64_t>(spi_exec(q.recount_sql, q.recount_params).processed);
    return p;
}

// The key sets queued for the model (rows UPDATE and DELETE changed), read as its owner: the
// run recomputes their keys (or rebuilds, when a set asks for it: its keys could not be
// computed) and its commit consumes exactly these ids.
struct QueuedKeys {
    std::vector<std::string> ids;
    bool full = false;
};
QueuedKeys queued_keys(const ModelRecord &m, const core::RefreshPlanner &planner) {
    QueuedKeys q;
    for (const auto &row : spi_exec(planner.queued_key_ids(), {SqlParam::int64(m.spec.id)}).rows) {
        q.ids.push_back(*row[0]);
        q.full = q.full || row[1] == std::optional<std::string>("t");
    }
    return q;
}

std::vector<std::string> queued_key_ids(const ModelRecord &m, const core::RefreshPlanner &planner) {
    return queued_keys(m, planner).ids;
}

// A queued full recompute turns the refresh into a rebuild, which says why.
bool rebuild_for_uncomputed_keys(const ModelRecord &m, const QueuedKeys &queued, RunRecord &run) {
    if (!queued.full) return false;
    report(NOTICE,
           "incmodel: model \"" + m.spec.name +
               "\": the keys of rows an UPDATE or DELETE changed could not be computed; this "
               "refresh rebuilds the model");
    AsCatalogOwner owner;
    spi_exec("UPDATE incmodel.runs SET kind = 'rebuild' WHERE run_id = $1::pg_catalog.int8",
             {SqlParam::int64(run.run_id)});
    return true;
}

void consume_queued_keys(const ModelRecord &m, const core::RefreshPlanner &planner,
                         const std::vector<std::string> &ids) {
    if (ids.empty()) return;
    AsCatalogOwner owner;
    spi_exec(planner.consume_queued_keys(),
             {SqlParam::int64(m.spec.id), SqlParam::text_array(ids)});
}

// Records the batches scratch in the manifest: read as the model's owner (the identity a unit
// runs as), written by the catalog owner from parameters only. A batch recounted to no event
// (all its rows deleted) leaves the manifest.
void record_manifest(const core::RefreshPlanner &planner, std::int64_t model_id,
                     std::int64_t run_id) {
    std::vector<std::optional<std::string>> values, gone;  // nullopt: the NULL batch
    std::vector<std::string> counts;
    for (const auto &row : spi_exec(planner.scratch_batches()).rows) {
        if (*row[1] == "0") {
            gone.push_back(row[0]);
            continue;
        }
        values.push_back(row[0]);
        counts.push_back(*row[1]);
    }
    AsCatalogOwner owner;
    spi_exec(planner.record_manifest(),
             {SqlParam::int64(model_id), SqlParam::int64(run_id), SqlParam::text_array(values),
              SqlParam::text_array(counts)});
    if (!gone.empty())
        spi_exec(planner.forget_batches(),
                 {SqlParam::int64(model_id), SqlParam::text_array(std::move(gone))});
}

// Rebuild into the target: batches counted first, then rows computed, then swapped in.
std::int64_t rebuild_locked(RunDriver &driver, const ModelRecord &m) {
    core::RefreshPlanner planner = planner_for(m);
    RunRecord &run = driver.run();
    std::string snapshot;
    std::vector<std::string> queued;
    driver.unit("plan", [&] {
        snapshot = capture_snapshot();
        // Key sets queued before the rebuild's reads are subsumed by it.
        queued = queued_key_ids(m, planner);
        spi_exec(planner.truncate_scratch());
        SqlResult r = spi_exec(planner.all_batches());
        run.batches = static_cast<std::int64_t>(r.processed);
        run.events = spi_exec("SELECT coalesce(sum(event_count), 0) FROM " +
                              quote_ident(planner.scratch().batches.schema) + "." +
                              quote_ident(planner.scratch().batches.name))
                         .scalar_int();
    });
    driver.unit("recompute", [&] {
        run.rows_inserted = static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
        driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
    });
    driver.unit("commit", [&] {
        spi_exec(planner.truncate_target());
        spi_exec(planner.insert_target_rows());
        {
            AsCatalogOwner owner;
            spi_exec(planner.clear_manifest(), {SqlParam::value(std::to_string(m.spec.id))});
            spi_exec("DELETE FROM incmodel.table_debt WHERE model_id = $1::int8",
                     {SqlParam::value(std::to_string(m.spec.id))});
        }
        record_manifest(planner, m.spec.id, run.run_id);
        consume_queued_keys(m, planner, queued);
        queue_for_dependents(m, planner, true);
        set_planned_snapshot(m, snapshot);
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
        driver.report(fmt::format("commit: {} rows", run.rows_inserted));
    });
    return run.rows_inserted;
}

// The OID of the table of that qualified name, InvalidOid when there is none.
Oid relation_oid(const core::QualifiedName &name) {
    const char *schema = name.schema.c_str();
    const char *rel = name.name.c_str();
    return pg_call([schema, rel] {
        const Oid nsp = get_namespace_oid(schema, true);
        return OidIsValid(nsp) ? get_relname_relid(rel, nsp) : InvalidOid;
    });
}

// A scratch table under a new model id can only be an orphan: a dump without incmodel's catalog
// (made by 0.2.0, or filtered by schema) brought the old database's scratch tables along, and
// the new catalog's identity sequence hands their ids out again. (Nobody else can create tables
// in incmodel_scratch.)
void drop_orphan_scratch(const core::RefreshPlanner &planner, bool time_based) {
    const auto &s = planner.scratch();
    bool any = OidIsValid(relation_oid(s.batches)) || OidIsValid(relation_oid(s.keys)) ||
               OidIsValid(relation_oid(s.rows)) || (time_based && OidIsValid(relation_oid(s.days)));
    if (any) exec_all(planner.drop_scratch());
}

// The scratch tables belong to the target's owner, whose identity the units run as; after an
// ALTER TABLE ... OWNER TO of the target they follow it (ownership changes run no user code).
void align_scratch_owner(const ModelRecord &m) {
    core::RefreshPlanner planner = planner_for(m);
    const Oid owner = relation_owner(m.target_oid);
    const auto &s = planner.scratch();
    std::vector<const core::QualifiedName *> tables{&s.batches, &s.keys, &s.rows};
    if (m.spec.time) tables.push_back(&s.days);
    for (const auto *t : tables) {
        const Oid rel = relation_oid(*t);
        if (!OidIsValid(rel) || relation_owner(rel) == owner) continue;
        AsCatalogOwner as_catalog_owner;
        spi_exec("ALTER TABLE " + core::qualified(quote_ident, *t) + " OWNER TO " +
                 quote_ident(role_name(owner)));
    }
}

// Runs body under the model lock with a run record; on failure records it, then rethrows.
template <typename Body>
void with_run(SpiConnection &spi, const ModelRecord &m, const char *kind, Body &&body) {
    align_scratch_owner(m);
    RunDriver driver(spi, m, kind);
    close_abandoned_runs(m.spec.id);
    driver.run().run_id = start_run(m, kind);
    driver.run().kind = kind;
    if (spi.nonatomic()) spi.commit();
    std::exception_ptr error;
    try {
        body(driver);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        driver.record_failure(error);
        std::rethrow_exception(error);
    }
}

// Loads a model, checks the caller may act on it, takes its lock and loads it again (it may
// have been altered or dropped while we waited).
struct LockedModel {
    ModelRecord model;
    std::unique_ptr<ModelLock> lock;
};

LockedModel lock_and_load(const std::string &name, const char *action, bool session, bool dont_wait,
                          std::int64_t *loaded_id = nullptr) {
    // Rights first (the query is rendered after the lock): a refused caller leaves no run.
    ModelRecord first = load_model(name, false);
    if (loaded_id) *loaded_id = first.spec.id;
    if (!OidIsValid(first.target_oid)) (void)load_model(name);  // raises: the target was dropped
    require_target_owner(first.target_oid, name, action);
    auto lock = std::make_unique<ModelLock>(first.spec.id, session, dont_wait);
    if (!lock->acquired()) return {std::move(first), nullptr};
    ModelRecord again = load_model(name);
    if (again.spec.id != first.spec.id)
        throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "incmodel: model \"" + name +
                            "\" was dropped and created again while "
                            "waiting for its lock",
                        "", "Run it again.");
    {
        // Analysis can run the owner's code (input functions of constants): as the owner.
        PinnedSettings pinned(again.timezone);
        {
            AsModelOwner owner(again.target_oid);
            verify_output_types(name, again.canonical_query, again.spec.outputs);
        }
        pinned.close();
    }
    // The texts follow renames: stored again when they changed (or the tree is new here).
    if (again.query_tree.empty() || again.texts_changed) store_query_tree(again);
    return {std::move(again), std::move(lock)};
}

// lock_and_load() for a run (refresh, rebuild, backfill), in a subtransaction: a failure
// (a dropped relation, a query that no longer analyzes, the lock) is recorded as a failed run
// at step 'load' and thrown as contained, so status shows it and refresh_all() goes on.
LockedModel load_for_run(SpiConnection &spi, const std::string &name, const char *kind,
                         bool dont_wait) {
    LockedModel locked;
    std::int64_t id = 0;  // the model the failure belongs to, once known
    std::exception_ptr error = in_subtransaction(
        [&] { locked = lock_and_load(name, kind, spi.nonatomic(), dont_wait, &id); });
    if (!error) return locked;
    if (!record_failed_run(name, id, kind, "load", error)) std::rethrow_exception(error);
    if (spi.nonatomic()) spi.commit();
    throw ContainedError(error);
}

// Types compare without collation; the target may carry its own.
std::string base_type(const std::string &type) {
    auto pos = type.find(" COLLATE ");
    return pos == std::string::npos ? type : type.substr(0, pos);
}

// An existing target must have exactly the model's columns with the same types.
void check_existing_target(Oid target, const core::ModelSpec &spec) {
    SqlResult cols = spi_exec(
        "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM "
        "pg_catalog.pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
        "a.attisdropped ORDER BY a.attnum",
        {SqlParam::value(std::to_string(target))});
    std::vector<std::string> problems;
    for (const auto &o : spec.outputs) {
        auto it = std::find_if(cols.rows.begin(), cols.rows.end(),
                               [&](const SqlRow &r) { return r[0] == o.name; });
        if (it == cols.rows.end())
            problems.push_back("column \"" + o.name + "\" (" + o.type + ") is missing");
        else if (base_type(*(*it)[1]) != base_type(o.type))
            problems.push_back("column \"" + o.name + "\" is " + *(*it)[1] + ", the query gives " +
                               o.type);
    }
    for (const auto &r : cols.rows) {
        bool known = std::any_of(spec.outputs.begin(), spec.outputs.end(),
                                 [&](const core::OutputColumn &o) { return r[0] == o.name; });
        if (!known) problems.push_back("column \"" + *r[0] + "\" is not produced by the query");
    }
    if (!problems.empty())
        throw UserError(ERRCODE_INVALID_TABLE_DEFINITION,
                        "incmodel: the existing target table does not match the query",
                        core::join(problems, "; ") + ".",
                        "Alter or drop the table, or choose another target name.");
}

bool has_unique_key_index(Oid target, const core::ModelSpec &spec) {
    std::vector<std::string> cols = spec.unique_columns;
    std::sort(cols.begin(), cols.end());
    SqlResult r = spi_exec(
        "SELECT array_agg(a.attname::text ORDER BY a.attname::text)::text FROM pg_catalog.pg_index "
        "i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indrelid = $1::oid AND i.indisunique AND i.indexprs IS NULL AND i.indpred IS "
        "NULL GROUP BY i.indexrelid",
        {SqlParam::value(std::to_string(target))});
    std::string want = "{" + core::join(cols, ",") + "}";
    for (const auto &row : r.rows)
        if (row[0] && *row[0] == want) return true;
    return false;
}

}  // namespace

std::int64_t create_model(SpiConnection &spi, const CreateModelArgs &args) {
    if (args.name.empty())
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE, "incmodel: model name must not be empty");
    require_interval_not_negative(args.lookback);
    bool exists = spi_exec("SELECT EXISTS (SELECT 1 FROM incmodel.models WHERE name = $1)",
                           {SqlParam::value(args.name)})
                      .scalar() == std::optional<std::string>("t");
    if (exists)
        throw UserError(ERRCODE_DUPLICATE_OBJECT,
                        "incmodel: model \"" + args.name + "\" already exists", "",
                        "Choose another name, or drop the model with incmodel.drop_model().");

    const bool features = !args.depends_on.empty();
    std::optional<ModelRecord> input;
    if (features) {
        if (args.depends_on.size() != 1)
            throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                            "incmodel: a features model depends on exactly one model", "",
                            "Name the model whose target the query reads.");
        if (!args.batch_column.empty() || args.load_column || args.strategy || args.event_key ||
            args.day_key || args.window_column)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: a features model takes no batch, load, window, strategy, "
                            "event_key or day_key settings",
                            "It is refreshed from the keys its input model touched.");
        input = load_model(args.depends_on[0]);
    }
    const bool daily = args.load_column.has_value();
    std::string batch_column = args.batch_column;
    if (daily) {
        if (!batch_column.empty() && batch_column != *args.load_column)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: give either batch_column or load_column, not both", "",
                            "A daily model ranges over load_column; omit batch_column.");
        const bool append = args.strategy == std::optional<std::string>("append");
        if (args.strategy && !append && *args.strategy != "recompute")
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: strategy must be 'append' or 'recompute'",
                            "It is '" + *args.strategy + "'.");
        if (append && (!args.start_date_micros || !args.event_key))
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            "incmodel: an append model needs start_date and event_key",
                            "Its first run starts at start_date; event_key is the column that "
                            "identifies an event (duplicates keep the first load).",
                            "Add start_date => '2026-01-01', event_key => 'event_id'.");
        if (!append && (!args.start_date_micros || !args.day_key))
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            "incmodel: a daily model needs start_date and day_key",
                            "load_column makes a time-based model: its first run starts at "
                            "start_date, and day_key names the output column holding the day.",
                            "Add start_date => '2026-01-01', day_key => 'day' (or strategy => "
                            "'append', event_key => 'event_id' for an event-level model).");
        if (args.window_column || args.bounded_recompute)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: window_column and bounded_recompute are for batch models",
                            "", "A daily model's late rows are governed by reprocess_days.");
        if (args.reprocess_days.value_or(0) < 0 || args.min_rows_to_process.value_or(1) < 1)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: reprocess_days must be >= 0 and min_rows_to_process >= 1");
        bool positive = spi_exec("SELECT $1::interval > interval '0'",
                                 {SqlParam::value(args.backfill_limit.value_or(""))})
                            .scalar() == std::optional<std::string>("t");
        if (!positive)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: backfill_limit must be a positive interval", "",
                            "Use an interval such as '30 days'.");
        batch_column = *args.load_column;
    } else if (features) {
        // the source is the input's target
    } else if (args.strategy || args.event_key || args.day_key) {
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: strategy, event_key and day_key apply to time-based models", "",
                        "Give load_column (and start_date) for a time-based model.");
    } else if (batch_column.empty()) {
        throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        "incmodel: argument \"batch_column\" must not be NULL", "",
                        "Name the source's batch column (etl_tstamp), or give load_column for a "
                        "daily model.");
    }

    // The user's query and target resolve in the caller's search_path.
    const bool append = daily && args.strategy == std::optional<std::string>("append");
    AnalyzedQuery analyzed =
        analyze_model_query({args.query, batch_column, args.window_column, args.unique_key,
                             append ? args.event_key : std::nullopt,
                             features ? input->target_oid : InvalidOid, daily && !append});
    std::vector<int> feature_keys;
    if (features) feature_keys = map_feature_keys(analyzed.spec, *input);
    if (daily) {
        core::TimeSpec d;
        d.load_column = batch_column;
        d.load_type = analyzed.spec.batch_type;
        d.append = append;
        if (append) {
            d.event_key = *args.event_key;
            d.dedupe_order = dedupe_order(analyzed.source_oid, d.load_column);
        } else {
            d.day_column = *args.day_key;
        }
        for (const auto &k : analyzed.spec.keys)
            if (!append && k.column == d.day_column) d.day_expr = k.source_expr;
        if (!append && d.day_expr.empty())
            throw UserError(ERRCODE_UNDEFINED_COLUMN,
                            "incmodel: day_key \"" + d.day_column +
                                "\" is not a GROUP BY output column computed from the source",
                            "", "Group by the event day, e.g. derived_tstamp::date AS day.");
        if (d.load_type != "timestamp without time zone" &&
            d.load_type != "timestamp with time zone")
            throw UserError(ERRCODE_DATATYPE_MISMATCH,
                            "incmodel: load_column \"" + d.load_column +
                                "\" must be a timestamp or timestamptz column",
                            "It is " + d.load_type + ".");
        d.reprocess_days = static_cast<int>(args.reprocess_days.value_or(2));
        d.min_rows_to_process = args.min_rows_to_process.value_or(1000);
        d.backfill_limit = *args.backfill_limit;
        d.start_date = *args.start_date_micros;  // turned into text once settings are pinned
        analyzed.spec.time = d;
    }
    const char *target_text = args.target.c_str();
    RangeVar *rv = pg_call(
        [target_text] { return makeRangeVarFromNameList(stringToQualifiedNameList(target_text)); });
    Oid target = pg_call([rv] { return RangeVarGetRelid(rv, NoLock, true); });
    Oid target_schema = OidIsValid(target)
                            ? pg_call([target] { return get_rel_namespace(target); })
                            : pg_call([rv] { return RangeVarGetCreationNamespace(rv); });
    std::string timezone =
        pg_call([] { return GetConfigOptionByName("TimeZone", nullptr, false); });

    ModelRecord m;
    m.spec = analyzed.spec;
    m.spec.name = args.name;
    m.spec.target = {pg_call([target_schema] { return get_namespace_name(target_schema); }),
                     rv->relname};
    m.spec.bounded_recompute = args.bounded_recompute && args.window_column.has_value();
    m.source_oid = analyzed.source_oid;
    m.query = args.query;
    m.lookback = args.window_column && !daily ? args.lookback : std::nullopt;
    if (!m.lookback) m.spec.window_column.reset();
    m.timezone = timezone;
    m.enabled = args.enabled;

    PinnedSettings pinned(timezone);
    if (daily)
        m.spec.time->start_date =
            *spi_exec(fmt::format("SELECT {}::text", fmt::format(kMicrosToTimestamptz, "$1::int8")),
                      {SqlParam::value(m.spec.time->start_date)})
                 .scalar();
    bool created_target = false;
    if (OidIsValid(target)) {
        char kind = pg_call([target] { return get_rel_relkind(target); });
        if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
            throw UserError(ERRCODE_WRONG_OBJECT_TYPE,
                            "incmodel: target \"" + args.target + "\" is not a table");
        require_target_owner(target, args.name, "create");
        check_existing_target(target, m.spec);
    } else {
        core::RefreshPlanner creator(m.spec, quote_ident);
        std::vector<std::string> ddl = creator.create_target();
        spi_exec(ddl[0]);
        // Look the new table up by its qualified name: search_path is pinned by now.
        const char *schema = m.spec.target.schema.c_str();
        const char *relname = m.spec.target.name.c_str();
        target = pg_call([schema, relname] {
            return get_relname_relid(relname, get_namespace_oid(schema, false));
        });
        created_target = true;
    }
    m.target_oid = target;
    m.spec.id = insert_model(m, analyzed.canonical_query);

    core::RefreshPlanner planner = planner_for(m);
    {
        AsCatalogOwner owner;
        drop_orphan_scratch(planner, m.spec.time.has_value());
        exec_all(planner.create_scratch());
        const std::string owner_name = quote_ident(role_name(relation_owner(target)));
        const auto &s = planner.scratch();
        for (const auto *t : {&s.batches, &s.keys, &s.rows})
            spi_exec("ALTER TABLE " + core::qualified(quote_ident, *t) + " OWNER TO " + owner_name);
        if (daily)
            spi_exec("ALTER TABLE " + core::qualified(quote_ident, s.days) + " OWNER TO " +
                     owner_name);
    }
    if (features) {
        set_features_input(m.spec.id, args.depends_on, feature_keys);
        m.depends_on = args.depends_on;
        pinned.close();
        ModelLock lock(m.spec.id, false, false);
        with_run(spi, m, "rebuild", [&](RunDriver &driver) { run_features(driver, m, true); });
        if (created_target || !has_unique_key_index(target, m.spec)) {
            PinnedSettings again(timezone);
            spi_exec(planner.create_target_key_index());
        }
        return m.spec.id;
    }
    if (daily) {
        // A time-based model's runs range over the load column; the change log (on the load
        // column) shows each run the rows committed behind its previous limit, and the changes
        // it cannot describe by ranges. Its first run (at most backfill_limit from start_date)
        // builds the target and records the snapshot the next run reads the log from; later
        // refreshes catch up in bounded steps.
        m.change_log = ensure_change_trigger(m);
        if (m.change_log) set_change_log(m.spec.id, true);
        pinned.close();
        notice_missing_indexes(analyzed);
        ModelLock lock(m.spec.id, false, false);
        with_run(spi, m, "refresh", [&](RunDriver &driver) { run_time_model(driver, m, {}); });
        if (created_target || !has_unique_key_index(target, m.spec)) {
            PinnedSettings again(timezone);
            spi_exec(planner.create_target_key_index());
        }
        return m.spec.id;
    }
    // The change-log trigger exists before the initial build's snapshot: an insert either
    // finished before it (and the build sees it) or is logged.
    m.change_log = ensure_change_trigger(m);
    if (m.change_log) set_change_log(m.spec.id, true);
    pinned.close();
    notice_missing_indexes(analyzed);

    ModelLock lock(m.spec.id, false, false);
    with_run(spi, m, "rebuild", [&](RunDriver &driver) { rebuild_locked(driver, m); });
    if (created_target || !has_unique_key_index(target, m.spec)) {
        PinnedSettings again(timezone);
        spi_exec(planner.create_target_key_index());
    }
    return m.spec.id;
}

RefreshOutcome refresh_model(SpiConnection &spi, const std::string &name, bool skip_locked,
                             const RunOverrides &overrides) {
    LockedModel locked = load_for_run(spi, name, "refresh", skip_locked);
    ModelRecord &m = locked.model;
    if (!m.spec.time && (overrides.reprocess_days || overrides.min_rows_to_process))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: reprocess_days and min_rows_to_process apply to daily models",
                        "Model \"" + name + "\" is a batch model.");
    if (!locked.lock) {
        std::string msg =
            "incmodel: model \"" + name + "\" is being refreshed by another session; skipped";
        report(NOTICE, msg);
        RunRecord skipped;
        skipped.run_id = start_run(m, "refresh");
        finish_run(skipped, "skipped");
        return RefreshOutcome::Skipped;
    }
    if (!m.enabled) {
        std::string msg = "incmodel: model \"" + name + "\" is disabled; nothing refreshed";
        report(NOTICE, msg);
        return RefreshOutcome::Disabled;
    }
    if (!m.depends_on.empty()) {
        if (overrides.reprocess_days || overrides.min_rows_to_process)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: reprocess_days and min_rows_to_process apply to daily "
                            "models");
        bool changed = false;
        with_run(spi, m, "refresh", [&](RunDriver &driver) { changed = run_features(driver, m); });
        return changed ? RefreshOutcome::Success : RefreshOutcome::Noop;
    }
    if (m.spec.time) {
        bool changed = false;
        with_run(spi, m, "refresh", [&](RunDriver &driver) {
            changed = run_time_model(driver, m,
                                     {overrides.reprocess_days, overrides.min_rows_to_process, {}});
        });
        return changed ? RefreshOutcome::Success : RefreshOutcome::Noop;
    }
    if (source_modified_since_plan(m)) {
        // An UPDATE, DELETE or TRUNCATE (or a partition attached or detached, or the triggers
        // disabled) changed the source in a way the log does not describe by batches: the model
        // is rebuilt, and says so.
        const std::string msg =
            "incmodel: source " + core::qualified(quote_ident, m.spec.source) + " of model \"" +
            name +
            "\" was changed by UPDATE, DELETE, TRUNCATE, a partition attached or detached "
            "or its triggers disabled since the last refresh; rebuilding the model";
        report(NOTICE, msg);
        with_run(spi, m, "rebuild", [&](RunDriver &driver) { rebuild_locked(driver, m); });
        return RefreshOutcome::Success;
    }
    core::RefreshPlanner planner = planner_for(m);
    RefreshOutcome outcome = RefreshOutcome::Success;
    with_run(spi, m, "refresh", [&](RunDriver &driver) {
        RunRecord &run = driver.run();
        std::optional<std::string> cutoff;
        std::vector<std::optional<std::string>> batches;  // nullopt: the NULL batch
        const SqlParam model_id = SqlParam::value(std::to_string(m.spec.id));

        PlannedBatches planned;
        std::vector<std::string> queued;  // ids of the key sets of rows UPDATE/DELETE changed
        bool rebuild = false;
        driver.unit("plan", [&] {
            cutoff = window_cutoff(m);
            run.window_start = cutoff;
            spi_exec(planner.truncate_scratch());
            planned = plan_batches(m, planner, cutoff);
            // Read after the plan's counts: every queued set's rows are visible to the recompute.
            const QueuedKeys q = queued_keys(m, planner);
            queued = q.ids;
            // Counting cannot tell what a shrunk batch lost; with the log every UPDATE and DELETE
            // queued its keys and recounts its batches.
            rebuild = rebuild_for_uncomputed_keys(m, q, run) ||
                      (!planned.used_log && rebuild_for_lost_rows(m, planner, run));
            if (rebuild) return;
            batches = planned.collected;
            run.events = planned.new_events;
            run.batches = static_cast<std::int64_t>(batches.size());
            driver.report(fmt::format(
                "plan: {} batches, {} new events{}{}", run.batches, run.events,
                queued.empty() ? "" : fmt::format(", {} changed keys queued", queued.size()),
                planned.used_log ? " (from the change log)" : ""));
        });
        if (rebuild) {
            run.kind = "rebuild";
            rebuild_locked(driver, m);
            return;
        }
        if (batches.empty() && queued.empty() && planned.recounted == 0) {
            run.step_timings_json = driver.timings_json();
            set_planned_snapshot(m, planned.snapshot);
            finish_run(run, "noop");
            if (spi.nonatomic()) spi.commit();
            outcome = RefreshOutcome::Noop;
            return;
        }
        const std::string &snapshot = planned.snapshot;
        driver.unit("keys", [&] {
            std::vector<SqlParam> params{SqlParam::text_array(batches)};
            if (cutoff) params.push_back(SqlParam::value(*cutoff));
            if (!batches.empty())
                run.keys =
                    static_cast<std::int64_t>(spi_exec(planner.collect_keys(), params).processed);
            if (!queued.empty())
                run.keys += static_cast<std::int64_t>(
                    spi_exec(planner.queued_keys_into_scratch(),
                             {SqlParam::int64(m.spec.id), SqlParam::text_array(queued)})
                        .processed);
            spi_exec(planner.analyze_keys());
            run.null_keys = spi_exec(planner.count_null_keys(), {}).scalar_int();
            driver.report(fmt::format("keys: {} keys touched", run.keys));
        });
        bool steer = false;
        driver.unit("recompute", [&] {
            steer = steer_to_index_lookups(m, run.keys);
            if (steer) use_index_lookups();
            const bool bounded = m.spec.bounded_recompute && cutoff.has_value();
            std::vector<SqlParam> params =
                bounded ? cutoff_params(cutoff) : std::vector<SqlParam>{};
            run.rows_inserted = static_cast<std::int64_t>(
                spi_exec(planner.recompute(run.null_keys > 0), params).processed);
            if (bounded)
                run.keys_outside_window =
                    spi_exec(planner.keys_outside_window(), cutoff_params(cutoff)).scalar_int();
            driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
        });
        driver.unit("commit", [&] {
            if (steer) use_index_lookups();
            run.rows_deleted = replace_touched_keys(planner, run.null_keys);
            record_manifest(planner, m.spec.id, run.run_id);
            consume_queued_keys(m, planner, queued);
            queue_for_dependents(m, planner, false);
            add_dead_tuple_debt(m.target_oid, m.spec.id, run.rows_deleted);
            set_planned_snapshot(m, snapshot);
            run.step_timings_json = driver.timings_json();
            finish_run(run, "success");
            driver.report(fmt::format("commit: {} rows deleted, {} inserted", run.rows_deleted,
                                      run.rows_inserted));
        });
    });
    return outcome;
}

std::int64_t rebuild_model(SpiConnection &spi, const std::string &name) {
    LockedModel locked = load_for_run(spi, name, "rebuild", false);
    std::int64_t rows = 0;
    if (!locked.model.depends_on.empty()) {
        with_run(spi, locked.model, "rebuild", [&](RunDriver &driver) {
            run_features(driver, locked.model, true);
            rows = driver.run().rows_inserted;
        });
        return rows;
    }
    if (locked.model.spec.time) {
        // A daily model starts again at start_date: emptied, then its first bounded run.
        ModelRecord fresh = locked.model;
        fresh.upper_limit.reset();
        with_run(spi, fresh, "rebuild", [&](RunDriver &driver) {
            driver.unit("reset", [&] { reset_time_model(fresh); });
            run_time_model(driver, fresh, {});
            rows = driver.run().rows_inserted;
        });
        return rows;
    }
    with_run(spi, locked.model, "rebuild",
             [&](RunDriver &driver) { rows = rebuild_locked(driver, locked.model); });
    return rows;
}

// explain shows batch values and runs the model's SQL: the target owner's rights, as refresh,
// and the SQL runs as the owner.
std::vector<ExplainRow> explain_model(const std::string &name) {
    ModelRecord m = load_model(name);
    require_target_owner(m.target_oid, name, "explain");
    AsModelOwner as_owner(m.target_oid);
    if (!m.depends_on.empty()) return explain_features(m);
    if (m.spec.time) return explain_time_model(m);
    if (source_modified_since_plan(m))
        return {{1, "rebuild",
                 "the source was changed by UPDATE, DELETE, TRUNCATE, a partition attached or "
                 "detached or its triggers disabled since the last refresh: the next refresh "
                 "rebuilds the model",
                 ""}};
    core::RefreshPlanner planner = planner_for(m);
    PinnedSettings pinned(m.timezone);
    std::optional<std::string> cutoff = window_cutoff(m);
    PendingQuery pq = pending_query(m, planner, cutoff);
    // One count: the changed batches split into the pending (new or grown) and the shrunk.
    SqlResult changed = pq.nothing ? SqlResult{} : spi_exec(pq.changed_sql, pq.params);
    std::vector<std::optional<std::string>> batches;  // nullopt: the NULL batch
    std::int64_t events = 0, shrunk = 0;
    for (const auto &row : changed.rows) {
        const std::int64_t now = std::stoll(*row[1]);
        const std::int64_t then = row[2] ? std::stoll(*row[2]) : 0;
        // Counting cannot tell what a shrunk batch lost; the log's UPDATE/DELETE capture can.
        if (row[2] && then > now && !pq.used_log) {
            ++shrunk;
            continue;
        }
        batches.push_back(row[0]);
        events += std::max<std::int64_t>(now - then, 0);
    }
    std::vector<SqlParam> key_params{SqlParam::text_array(batches)};
    if (cutoff) key_params.push_back(SqlParam::value(*cutoff));
    std::int64_t keys =
        batches.empty() || shrunk > 0 ? 0 : spi_exec(planner.count_keys(), key_params).scalar_int();
    const std::size_t queued = queued_key_ids(m, planner).size();
    pinned.close();

    std::string listed;
    for (size_t i = 0; i < batches.size() && i < 10; ++i)
        listed += (i ? ", " : "") + batches[i].value_or("NULL");
    if (batches.size() > 10) listed += fmt::format(", ... ({} more)", batches.size() - 10);
    std::string window =
        cutoff ? fmt::format("window: {} >= {}", *m.spec.window_column, *cutoff) : "no window";
    if (shrunk > 0)
        window += fmt::format(
            "; {} batch(es) lost rows since they were processed: the refresh rebuilds the model",
            shrunk);
    return {
        {1, "plan",
         fmt::format("{} pending batches, {} new events; {}{}{}", batches.size(), events, window,
                     pq.used_log ? "; from the change log" : "",
                     listed.empty() ? "" : "; batches: " + listed),
         pq.insert_sql},
        {2, "keys",
         fmt::format("{} keys touched{}", keys,
                     queued == 0 ? ""
                                 : fmt::format(", and {} keys of rows changed by UPDATE or "
                                               "DELETE (queued)",
                                               queued)),
         planner.collect_keys()},
        {3, "recompute",
         m.spec.bounded_recompute ? "touched keys recomputed from their events in the window"
                                  : "touched keys recomputed from all their events",
         planner.recompute(false)},
        {4, "commit",
         "one transaction: delete touched keys, insert recomputed rows, record batches",
         planner.delete_target_keys() + ";\n" + planner.insert_target_rows() + ";\n" +
             planner.record_manifest()},
    };
}

std::vector<ExplainRow> explain_backfill(const std::string &name, const std::string &from_micros,
                                         const std::string &to_micros) {
    ModelRecord m = load_model(name);
    require_target_owner(m.target_oid, name, "explain");
    AsModelOwner as_owner(m.target_oid);
    if (!m.spec.time)
        throw UserError(
            ERRCODE_WRONG_OBJECT_TYPE,
            "incmodel: backfill applies to time-based models; \"" + name + "\" is not one");
    if (std::stoll(from_micros) >= std::stoll(to_micros))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: backfill range is empty: range_start must be before range_end");
    return explain_time_backfill(m, from_micros, to_micros);
}

std::int64_t backfill_model(SpiConnection &spi, const std::string &name,
                            const std::string &from_micros, const std::string &to_micros) {
    LockedModel locked = load_for_run(spi, name, "backfill", false);
    const ModelRecord &m = locked.model;
    if (!m.spec.time)
        throw UserError(
            ERRCODE_WRONG_OBJECT_TYPE,
            "incmodel: backfill applies to time-based models; \"" + name + "\" is a batch model",
            "", "Rebuild a batch model with incmodel.rebuild().");
    if (std::stoll(from_micros) >= std::stoll(to_micros))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: backfill range is empty: range_start must be before range_end");
    std::int64_t rows = 0;
    with_run(spi, m, "backfill", [&](RunDriver &driver) {
        run_time_model(driver, m, {{}, {}, std::make_pair(from_micros, to_micros)});
        rows = driver.run().rows_inserted;
    });
    return rows;
}

Pending pending_of(const std::string &name) {
    ModelRecord m;
    try {
        m = load_model(name);
    } catch (const UserError &) {
        return {};  // source or target dropped: status shows NULL rather than failing
    }
    // What is pending is the owner's to know (as the catalog rows behind it); it is counted as
    // the owner, so a superuser's look at status lends the owner's SQL no rights.
    const Oid owner = relation_owner(m.target_oid);
    if (!pg_call([owner] { return has_privs_of_role(GetUserId(), owner); })) return {};
    AsModelOwner as_owner(m.target_oid);
    if (!m.depends_on.empty()) return pending_features(m);
    if (m.spec.time) return pending_time_rows(m);
    const Oid source = m.source_oid;
    bool can_read = pg_call(
        [source] { return pg_class_aclcheck(source, GetUserId(), ACL_SELECT) == ACLCHECK_OK; });
    if (!can_read) return {};
    core::RefreshPlanner planner = planner_for(m);
    PinnedSettings pinned(m.timezone);
    if (source_modified_since_plan(m)) {
        // The next refresh rebuilds (an UPDATE, DELETE, TRUNCATE ... was logged): every event
        // of the source is pending, never 0.
        const std::int64_t events =
            spi_exec("SELECT count(*) FROM " + core::qualified(quote_ident, m.spec.source))
                .scalar_int();
        pinned.close();
        return {std::nullopt, events};
    }
    std::optional<std::string> cutoff = window_cutoff(m);
    PendingQuery pq = pending_query(m, planner, cutoff);
    // Each key queued by an UPDATE or DELETE counts as one pending event: never 0 while one waits.
    const std::int64_t queued = static_cast<std::int64_t>(queued_key_ids(m, planner).size());
    if (pq.nothing) {
        pinned.close();
        return {0, queued};
    }
    SqlResult r = spi_exec(
        "SELECT count(*), coalesce(sum(greatest(event_count - coalesce(recorded_count, "
        "0), 0)), 0) FROM (" +
            pq.select_sql + ") p",
        pq.params);
    pinned.close();
    return {std::stoll(*r.rows[0][0]), std::stoll(*r.rows[0][1]) + queued};
}

void alter_model(const AlterModelArgs &args) {
    LockedModel locked = lock_and_load(args.name, "alter", false, false);
    require_interval_not_negative(args.lookback);
    AsCatalogOwner owner;
    const SqlParam id = SqlParam::value(std::to_string(locked.model.spec.id));
    if (args.lookback)
        spi_exec("UPDATE incmodel.models SET lookback = $2::interval WHERE model_id = $1::int8",
                 {id, SqlParam::value(*args.lookback)});
    if (args.enabled)
        spi_exec("UPDATE incmodel.models SET enabled = $2::boolean WHERE model_id = $1::int8",
                 {id, SqlParam::value(*args.enabled ? "true" : "false")});
    if (args.bounded_recompute)
        spi_exec(
            "UPDATE incmodel.models SET bounded_recompute = $2::boolean WHERE model_id = $1::int8",
            {id, SqlParam::value(*args.bounded_recompute ? "true" : "false")});
    auto ratio = [&](const char *column, const std::optional<double> &value) {
        if (!value) return;
        if (*value < 0)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            std::string("incmodel: ") + column + " must not be negative");
        spi_exec(std::string("UPDATE incmodel.models SET ") + column +
                     " = $2::float8 WHERE model_id = $1::int8",
                 {id, SqlParam::value(fmt::format("{}", *value))});
    };
    ratio("vacuum_dead_ratio", args.vacuum_dead_ratio);
    ratio("analyze_mod_ratio", args.analyze_mod_ratio);
}

std::int64_t replace_touched_keys(const core::RefreshPlanner &planner, std::int64_t null_keys) {
    auto deleted = static_cast<std::int64_t>(spi_exec(planner.delete_target_keys()).processed);
    if (null_keys > 0)
        deleted += static_cast<std::int64_t>(spi_exec(planner.delete_target_null_keys()).processed);
    spi_exec(planner.insert_target_rows());
    return deleted;
}

namespace {

// Removes a model's catalog rows, scratch tables and (when no other model uses it) its change-log
// trigger, under its lock; its target stays.
void drop_model_objects(const std::string &name) {
    ModelRecord m = load_model(name, false);
    ModelLock lock(m.spec.id, false, false);
    m = load_model(name, false);
    core::RefreshPlanner planner = planner_for(m);
    {
        AsCatalogOwner owner;
        exec_all(planner.drop_scratch());
    }
    delete_model(m.spec.id);
    if (m.change_log && OidIsValid(m.source_oid)) drop_change_trigger_if_unused(m);
}

// drop_model(..., cascade => true): the models that read this one's target go first, whoever
// owns them, as DROP TABLE ... CASCADE drops other roles' views; their targets stay as tables.
void drop_dependents(const ModelRecord &m) {
    for (const std::string &dependent : dependent_model_names(m)) {
        drop_dependents(load_model(dependent, false));
        report(NOTICE, "incmodel: drop cascades to model \"" + dependent + "\"",
               "Its target table is kept; it is no longer refreshed.");
        drop_model_objects(dependent);
    }
}

}  // namespace

void drop_model(const std::string &name, bool drop_target, bool cascade) {
    ModelRecord m = load_model(name, false);
    if (OidIsValid(m.target_oid)) {
        require_target_owner(m.target_oid, name, "drop");
    } else {
        // The target is gone: the model's creator (or a superuser) may still drop the model.
        const Oid owner = m.owner_oid;
        bool allowed = pg_call([owner] { return has_privs_of_role(GetUserId(), owner); });
        if (!allowed)
            throw UserError(
                ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to drop model \"" + name + "\"",
                "Its target table no longer exists; only the model's creator may drop it.");
    }
    if (cascade)
        drop_dependents(m);
    else
        require_no_dependents(m);
    drop_model_objects(name);
    if (drop_target && OidIsValid(m.target_oid))
        spi_exec("DROP TABLE " + core::qualified(quote_ident, m.spec.target));
}

// verify (src/pg/verify.cpp) locks, checks and records its runs as refresh does.
std::unique_ptr<ModelLock> lock_model_for(const std::string &name, const char *action, bool session,
                                          ModelRecord &model) {
    LockedModel locked = lock_and_load(name, action, session, false);
    model = std::move(locked.model);
    return std::move(locked.lock);
}

void run_recorded(SpiConnection &spi, const ModelRecord &m, const char *kind,
                  const std::function<void(RunDriver &)> &body) {
    with_run(spi, m, kind, body);
}

}  // namespace incmodel::pg
