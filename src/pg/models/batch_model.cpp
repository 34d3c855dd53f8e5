// Batch models: the manifest of processed batches, the change log's ranges (or a count of the
// source's batches), the keys UPDATE and DELETE queued, and a refresh that recomputes the
// touched keys. A peer of time_model.cpp and features_model.cpp behind model_ops.cpp's dispatch.
#include "pg/models/batch_model.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/analysis/dimension_routes.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/dimension_triggers.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/change_log_rows.hpp"
#include "pg/catalog/key_queue.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/catalog/relation_facts.hpp"
#include "pg/models/features_model.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/models/time_model.hpp"
#include "pg/models/model_runs.hpp"

namespace incmodel::pg {

namespace {

// The planner is not left to chance for the per-key steps: when few keys are touched (fewer
// than a twentieth of the source's rows) and the source has an index led by the key's column,
// hash and merge joins are switched off for the recompute and delete, so they look keys up
// through the indexes instead of scanning whole tables on a misjudged estimate.
bool steer_to_index_lookups(const ModelRecord &m, std::int64_t keys) {
    if (keys <= 0) return false;
    const std::string prefix = quote_ident(m.spec.source_alias) + ".";
    const std::string &expr = m.spec.keys[0].source_expr;
    if (expr.rfind(prefix, 0) != 0) return false;
    const AttrNumber key = attnum_of_quoted(m.source_oid, expr.substr(prefix.size()));
    return index_leads_with(m.source_oid, key, false) &&
           relation_tuples(m.source_oid) > 20 * static_cast<double>(keys);
}

// Whether the source has a valid, non-partial index led by the batch column: the plan counts
// the change log's ranges through it (else in one scan) and the keys step may look batches up.
bool batch_column_indexed(const ModelRecord &m) {
    const Oid source = m.source_oid;
    const char *column = m.spec.batch_column.c_str();
    const AttrNumber att = pg_call([source, column] { return get_attnum(source, column); });
    return index_leads_with(source, att, true);
}

// The keys step is not left to the batch column's statistics either: bulk-loaded history under
// a few batch values makes one value look like half the table, and the planner then scans the
// window's index (or the whole source) for a batch of a few thousand rows. When the source has a
// plain index led by the batch column and the run's new events are under a twentieth of its
// rows, the keys are read per listed value through that index (sequential scans off for the
// step; see RefreshPlanner::listed_batch_keys).
bool steer_keys_to_batch_index(const ModelRecord &m, std::int64_t new_events) {
    if (new_events <= 0 || !batch_column_indexed(m)) return false;
    return relation_tuples(m.source_oid) > 20 * static_cast<double>(new_events);
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
    bool log_empty = false;  // used_log, and not one log row since the plan snapshot
    std::string select_sql, changed_sql, insert_sql;
    std::vector<SqlParam> params;
    // The batch ranges of rows UPDATE and DELETE changed since the last plan (their keys were
    // queued): recounted for the manifest by recount_sql, after insert_sql. Empty: none.
    std::string recount_sql;
    std::vector<SqlParam> recount_params;
    // When the log alone gives the new batches' counts (see logged_counts_suffice): the INSERT
    // that records them without reading the source, tried before insert_sql. Empty: not usable.
    std::string logged_sql;
    std::vector<SqlParam> logged_params;
};

// Whether the log's rows can stand for a count of the source: only loads ('insert' rows), each
// of one single non-NULL value, under a deterministic comparison of batch values (no
// non-default collation, which may merge values the text keeps apart) and the source read whole
// (no ONLY, which would leave out the loads of inheritance children the log counts). Anything
// else (UPDATE/DELETE 'recount' rows, 'modify' rows, NULL batch values, a range spanning
// several values) is recounted from the source. So is a value logged twice by one transaction:
// a row per statement, or the same kept range written again at commit after a refresh inside
// the loading transaction read it; the rows could be counted twice.
bool logged_counts_suffice(const ModelRecord &m, const std::vector<LogRow> &rows,
                           const std::optional<core::QualifiedName> &collation) {
    if (collation || m.spec.source_only) return false;
    std::set<std::pair<std::string, std::string>> seen;  // (transaction, value)
    for (const LogRow &row : rows) {
        if (row.kind != "insert") return false;
        if (row.range.rows == 0) continue;
        if (row.range.nulls != 0 || !row.range.lo || row.range.lo != row.range.hi) return false;
        if (!seen.emplace(row.txid, *row.range.lo).second) return false;
    }
    return !seen.empty();
}

// The batch column's collation when it is not its type's default (read from the catalog at each
// plan, so it follows ALTER COLUMN ... COLLATE): the change log's ranges were ordered by it.
std::optional<core::QualifiedName> batch_collation(const ModelRecord &m) {
    return non_default_collation(m.source_oid, m.spec.batch_column);
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
    // The log is catalog, read as its owner; its values go on to the model's SQL as parameters.
    // 'insert' rows carry the ranges of loads, 'recount' rows those of rows UPDATE or DELETE
    // changed; a row's nulls counts its rows whose batch value was NULL.
    std::vector<std::string> los, his, recount_los, recount_his;
    bool nulls = false, recount_nulls = false, recount = false;
    const std::vector<LogRow> logged =
        log_rows_since(m.source_oid, m.spec.batch_column, *m.planned_snapshot);
    q.log_empty = logged.empty();
    for (const LogRow &row : logged) {
        const bool changed = row.kind == "recount";
        // 'uncounted': loads whose row count may include rows a subtransaction rolled back.
        if (!changed && row.kind != "insert" && row.kind != "uncounted") continue;
        if (!row.range.lo && row.range.nulls == 0) continue;
        recount = recount || changed;
        if (row.range.nulls > 0) (changed ? recount_nulls : nulls) = true;
        if (!row.range.lo) continue;
        (changed ? recount_los : los).push_back(*row.range.lo);
        (changed ? recount_his : his).push_back(*row.range.hi);
    }
    q.nothing = los.empty() && !nulls && !recount;
    // The ranges are merged under the batch column's collation, the order the trigger used.
    core::ModelSpec spec = m.spec;
    spec.batch_collation = batch_collation(m);
    spec.batch_ranges_in_one_scan = !batch_column_indexed(m);
    core::RefreshPlanner ranged(spec, quote_ident);
    q.select_sql = ranged.pending_batches_in_ranges();
    q.changed_sql = ranged.changed_batches_in_ranges();
    q.insert_sql = ranged.find_batches_in_ranges();
    q.params = {model_id, SqlParam::text_array(los), SqlParam::text_array(his),
                SqlParam::value(nulls ? "true" : "false"),
                SqlParam::value(recount ? "true" : "false")};
    if (!q.nothing && logged_counts_suffice(m, logged, spec.batch_collation)) {
        std::vector<std::string> values, counts;
        for (const LogRow &row : logged) {
            if (row.range.rows == 0) continue;
            values.push_back(*row.range.lo);
            counts.push_back(std::to_string(row.range.rows));
        }
        q.logged_sql = ranged.find_logged_new_batches();
        q.logged_params = {model_id, SqlParam::text_array(values), SqlParam::text_array(counts)};
    }
    if (recount) {
        q.recount_sql = ranged.find_recounted_batches();
        q.recount_params = {model_id, SqlParam::text_array(recount_los),
                            SqlParam::text_array(recount_his),
                            SqlParam::value(recount_nulls ? "true" : "false")};
    }
    return q;
}

// Why a refresh rebuilds instead of recomputing touched keys. The one decision is taken in the
// plan unit (refresh_batch_model) from three facts, each a reason of its own with its NOTICE.
struct RebuildReason {
    std::string message, detail, hint;
};

// The log holds a change it cannot describe (TRUNCATE, a partition attached or detached, the
// triggers disabled, rows changed where no capture statement trigger fired).
std::optional<RebuildReason> modified_source_reason(const ModelRecord &m) {
    if (!source_modified_since_plan(m)) return std::nullopt;
    return RebuildReason{
        "incmodel: source " + core::qualified(quote_ident, m.spec.source) + " of model \"" +
            m.spec.name +
            "\" was changed in a way the change log cannot describe (TRUNCATE, a partition "
            "attached or detached, its triggers disabled, rows changed where no statement "
            "trigger fired) since the last refresh; rebuilding the model",
        "", ""};
}

// A batch that lost rows since the manifest recorded it (shrunk, or gone from the source), found
// by counting: the deleted rows' keys are not among the remaining events.
std::optional<RebuildReason> lost_rows_reason(const ModelRecord &m,
                                              const core::RefreshPlanner &planner) {
    SqlResult shrunk = spi_exec(planner.shrunk_batches());
    if (shrunk.rows.empty()) return std::nullopt;
    return RebuildReason{
        fmt::format("incmodel: model \"{}\": {} batch(es) lost rows since they were processed; "
                    "this refresh rebuilds the model",
                    m.spec.name, *shrunk.rows[0][0]),
        fmt::format("Batch {} had {} events and now has {}. The keys of deleted rows cannot be "
                    "found from the remaining events.",
                    shrunk.rows[0][1] ? *shrunk.rows[0][1] : std::string("NULL"),
                    *shrunk.rows[0][2], *shrunk.rows[0][3]),
        "Load the source with INSERT or COPY only to keep refreshes incremental."};
}

// A full recompute was queued: a relation the query reads besides the source changed (a joined
// dimension), or the keys of rows an UPDATE or DELETE changed could not be computed.
std::optional<RebuildReason> uncomputed_keys_reason(const ModelRecord &m,
                                                    const QueuedKeySets &queued) {
    if (!queued.full) return std::nullopt;
    return RebuildReason{"incmodel: model \"" + m.spec.name +
                             "\": a full recompute was queued; this refresh rebuilds the model",
                         "A relation its query reads besides the source changed, or the keys "
                         "of rows an UPDATE or DELETE changed could not be computed.",
                         ""};
}

// The routes from the dimensions whose changed join values are queued to the source; a
// dimension without one now (the query was changed by a rename, or the values were queued by a
// version that mapped differently) makes the refresh rebuild.
struct DimensionRoutes {
    std::vector<std::pair<Oid, core::DimensionRoute>> routes;
    std::optional<RebuildReason> unbounded;
};
DimensionRoutes routes_of_queued(const ModelRecord &m, const QueuedKeySets &queued) {
    DimensionRoutes out;
    for (Oid d : queued.dimensions) {
        DimensionMapping map =
            dimension_mapping(m.query_tree, m.source_oid, m.spec.source_alias, d, m.target_oid);
        if (map.bounded && !map.through.empty()) {
            // Through a view: one redefined (CREATE OR REPLACE VIEW) since the watch was set up
            // may map the equality to another column than the row triggers noted. This refresh
            // rebuilds, and the watch is set up again now, so that later changes note the
            // column the view maps today.
            bool stale = false;
            for (const DimensionWatcher &w : models_watching({d}))
                stale = stale || (w.model_id == m.spec.id && w.watch == "values" &&
                                  w.noted_column != map.dimension_attnum);
            if (stale) {
                map.bounded = false;
                map.description = "it is read through " + map.through +
                                  ", redefined since its watch noted another column";
                if (m.depends_on.empty()) {
                    watch_dimensions(m);
                } else {
                    redo_dimension_watch(m.spec.id);
                }
            }
        }
        if (map.bounded) {
            out.routes.emplace_back(d, std::move(map.route));
            continue;
        }
        out.unbounded = RebuildReason{
            "incmodel: model \"" + m.spec.name +
                "\": changed rows of a relation its query reads are queued, and no route leads "
                "from it to the source; this refresh rebuilds the model",
            "Relation OID " + std::to_string(d) + ": " + map.description + ".", ""};
    }
    return out;
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
    bool log_empty = false;  // the log held no row at all since the last plan
};

// Fills the batches scratch with the batches to process, then with the batches to recount.
PlannedBatches plan_batches(const ModelRecord &m, const core::RefreshPlanner &planner,
                            const std::optional<std::string> &cutoff) {
    PlannedBatches p;
    p.snapshot = capture_snapshot();
    PendingQuery q = pending_query(m, planner, cutoff);
    p.used_log = q.used_log;
    p.log_empty = q.log_empty;
    if (m.change_log && !p.used_log) notice_log_not_used(m);
    if (q.nothing) return p;
    // All or nothing: either every logged batch was recorded from the log, or none and the
    // ranges are counted in the source.
    SqlResult counted;
    if (!q.logged_sql.empty())
        counted = spi_exec(q.logged_sql + planner.returning_new_events(), q.logged_params);
    if (counted.rows.empty())
        counted = spi_exec(q.insert_sql + planner.returning_new_events(), q.params);
    for (const auto &row : counted.rows) {
        p.collected.push_back(row[0]);
        p.new_events += std::stoll(*row[1]);
    }
    if (!q.recount_sql.empty())
        p.recounted =
            static_cast<std::int64_t>(spi_exec(q.recount_sql, q.recount_params).processed);
    return p;
}

std::vector<std::string> queued_key_ids(const ModelRecord &m, const core::RefreshPlanner &planner) {
    return queued_key_sets(planner, m.spec.id).ids;
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

}  // namespace

// Rebuild into the target: batches counted first, then rows computed, then swapped in.
std::int64_t rebuild_batch_model(RunDriver &driver, const ModelRecord &m) {
    core::RefreshPlanner planner = planner_for(m);
    RunRecord &run = driver.run();
    std::string snapshot;
    std::vector<std::string> queued;
    driver.unit("plan", [&] {
        snapshot = capture_snapshot();
        // Key sets queued before the rebuild's reads are subsumed by it.
        queued = queued_key_ids(m, planner);
        clear_scratch(planner, m.spec.time.has_value());
        SqlResult r = spi_exec(planner.all_batches());
        run.batches = static_cast<std::int64_t>(r.processed);
        run.events = spi_exec(planner.scratch_event_total()).scalar_int();
        driver.more_units_follow();
    });
    driver.unit("recompute", [&] {
        run.rows_inserted = static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
        driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
        driver.more_units_follow();
    });
    driver.unit("commit", [&] {
        spi_exec(planner.truncate_target());
        spi_exec(planner.insert_target_rows());
        {
            AsCatalogOwner owner;
            spi_exec(planner.clear_manifest(), {SqlParam::value(std::to_string(m.spec.id))});
        }
        forget_model_debt(m.spec.id);
        record_manifest(planner, m.spec.id, run.run_id);
        consume_key_sets(planner, m.spec.id, queued);
        queue_for_dependents(m, planner, true);
        set_planned_snapshot(m, snapshot);
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
        driver.report(fmt::format("commit: {} rows", run.rows_inserted));
    });
    return run.rows_inserted;
}

RefreshOutcome refresh_batch_model(SpiConnection &spi, const ModelRecord &m) {
    core::RefreshPlanner planner = planner_for(m);
    RefreshOutcome outcome = RefreshOutcome::Success;
    with_run(spi, m, "refresh", [&](RunDriver &driver) {
        RunRecord &run = driver.run();
        std::optional<std::string> cutoff;
        std::vector<std::optional<std::string>> batches;  // nullopt: the NULL batch

        PlannedBatches planned;
        std::vector<std::string> queued;  // ids of the key sets of rows UPDATE/DELETE changed
        DimensionRoutes dimensions;       // and of the join values of changed dimension rows
        bool rebuild = false;
        driver.unit("plan", [&] {
            std::optional<RebuildReason> why = modified_source_reason(m);
            if (!why) {
                cutoff = window_cutoff(m);
                run.window_start = cutoff;
                clear_scratch(planner, m.spec.time.has_value());
                planned = plan_batches(m, planner, cutoff);
                // Read after the plan's counts: every queued set's rows are visible to the
                // recompute.
                const QueuedKeySets q = queued_key_sets(planner, m.spec.id);
                queued = q.ids;
                why = uncomputed_keys_reason(m, q);
                dimensions = routes_of_queued(m, q);
                if (!why) why = dimensions.unbounded;
                // Counting cannot tell what a shrunk batch lost; with the log every UPDATE and
                // DELETE queued its keys and recounts its batches.
                if (!why && !planned.used_log) why = lost_rows_reason(m, planner);
            }
            if (why) {
                report(NOTICE, why->message, why->detail, why->hint);
                mark_run_rebuild(run.run_id);
                rebuild = true;
                driver.more_units_follow();
                return;
            }
            batches = planned.collected;
            run.events = planned.new_events;
            run.batches = static_cast<std::int64_t>(batches.size());
            driver.report(fmt::format(
                "plan: {} batches, {} new events{}{}", run.batches, run.events,
                queued.empty() ? "" : fmt::format(", {} changed keys queued", queued.size()),
                planned.used_log ? " (from the change log)" : ""));
            // Nothing to do: the run ends in this unit's transaction, so a no-op commits once
            // (its run row, the plan snapshot and the run's end together).
            // When the log held no row since the last plan, the plan snapshot stays: the next
            // plan reads the same (empty) set of log rows from it, and nothing is written but
            // the run's row.
            if (batches.empty() && queued.empty() && planned.recounted == 0) {
                if (!(planned.used_log && planned.log_empty))
                    set_planned_snapshot(m, planned.snapshot);
                run.step_timings_json = driver.timings_json();
                finish_run(run, "noop");
                outcome = RefreshOutcome::Noop;
            } else {
                driver.more_units_follow();
            }
        });
        if (rebuild) {
            run.kind = "rebuild";
            rebuild_batch_model(driver, m);
            return;
        }
        if (outcome == RefreshOutcome::Noop) return;
        const std::string &snapshot = planned.snapshot;
        bool steer = false;
        driver.unit("keys", [&] {
            std::vector<SqlParam> params{SqlParam::text_array(batches)};
            if (cutoff) params.push_back(SqlParam::value(*cutoff));
            if (!batches.empty()) {
                const bool by_index = steer_keys_to_batch_index(m, run.events);
                if (by_index) set_local_setting("enable_seqscan", "off");
                run.keys = static_cast<std::int64_t>(
                    spi_exec(planner.collect_keys(by_index), params).processed);
            }
            if (!queued.empty())
                run.keys += static_cast<std::int64_t>(
                    spi_exec(planner.queued_keys_into_scratch(),
                             {SqlParam::int64(m.spec.id), SqlParam::text_array(queued)})
                        .processed);
            for (const auto &[dimension, route] : dimensions.routes)
                run.keys += static_cast<std::int64_t>(
                    spi_exec(planner.dimension_keys_into_scratch(route),
                             {SqlParam::int64(m.spec.id), SqlParam::text_array(queued),
                              SqlParam::int64(dimension)})
                        .processed);
            // Statistics on the keys only matter when the planner chooses the joins: a steered
            // run looks every key up by index, and its ANALYZE (a catalog write, so a WAL flush
            // at the unit's commit, and new plans) would buy nothing.
            steer = steer_to_index_lookups(m, run.keys);
            if (!steer) spi_exec(planner.analyze_keys());
            run.null_keys = spi_exec(planner.count_null_keys(), {}).scalar_int();
            driver.report(fmt::format("keys: {} keys touched", run.keys));
            driver.more_units_follow();
        });
        driver.unit("recompute", [&] {
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
            driver.more_units_follow();
        });
        driver.unit("commit", [&] {
            if (steer) use_index_lookups();
            run.rows_deleted = replace_touched_keys(planner, run.null_keys);
            record_manifest(planner, m.spec.id, run.run_id);
            consume_key_sets(planner, m.spec.id, queued);
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

// explain's last rows: each relation the query reads besides the source, and what a change to it
// does (the route to the keys and its SQL, a full recompute and why, or nothing).
std::vector<ExplainRow> explain_dimensions(const ModelRecord &m,
                                           const core::RefreshPlanner &planner) {
    std::vector<ExplainRow> out;
    for (Oid r : watched_relations(m)) {
        const std::string name = regclass_text(r);
        if (m.on_dimension_change == "ignore") {
            out.push_back({5, "dimension",
                           name + ": not watched (on_dimension_change => 'ignore'): its changes "
                                  "reach the target only through a rebuild",
                           ""});
            continue;
        }
        bool keyed_through = false;
        for (const core::KeyPart &k : m.spec.keys)
            keyed_through = keyed_through || (k.through && k.through->relid == r);
        if (keyed_through && m.on_dimension_change == "recompute") {
            out.push_back({5, "dimension",
                           name + ": the key is read through it (" + m.spec.keys[0].column +
                               "): a change recomputes the keys of its old and new rows, and "
                               "the key their source rows have without them",
                           ""});
            continue;
        }
        const DimensionMapping map =
            dimension_mapping(m.query_tree, m.source_oid, m.spec.source_alias, r, m.target_oid);
        if (map.bounded && m.on_dimension_change == "recompute") {
            out.push_back({5, "dimension",
                           name +
                               ": a change recomputes the keys of the source rows it joins "
                               "through " +
                               map.description,
                           planner.dimension_keys_into_scratch(map.route)});
            continue;
        }
        out.push_back(
            {5, "dimension",
             name + ": a change queues a full recompute (" +
                 (map.bounded ? std::string("on_dimension_change => 'rebuild'") : map.description) +
                 "); TRUNCATE always does",
             ""});
    }
    return out;
}

std::vector<ExplainRow> explain_batch_model(const ModelRecord &m) {
    if (source_modified_since_plan(m))
        return {{1, "rebuild",
                 "the source was changed in a way the change log cannot describe (TRUNCATE, a "
                 "partition attached or detached, its triggers disabled, rows changed where no "
                 "statement trigger fired) since the last refresh: the next refresh rebuilds "
                 "the model",
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
    // The run tries the log's own counts first (plan_batches): shown when they would serve.
    const bool logged_counts = !pq.logged_sql.empty();
    std::vector<ExplainRow> rows{
        {1, "plan",
         fmt::format("{} pending batches, {} new events; {}{}{}", batches.size(), events, window,
                     logged_counts ? "; counted by the change log (the source is not read)"
                     : pq.used_log ? "; from the change log"
                                   : "",
                     listed.empty() ? "" : "; batches: " + listed),
         logged_counts ? pq.logged_sql : pq.insert_sql},
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
    for (ExplainRow &row : explain_dimensions(m, planner)) rows.push_back(std::move(row));
    return rows;
}

Pending pending_batch_model(const ModelRecord &m) {
    const Oid source = m.source_oid;
    bool can_read = pg_call(
        [source] { return pg_class_aclcheck(source, GetUserId(), ACL_SELECT) == ACLCHECK_OK; });
    if (!can_read) return {};
    core::RefreshPlanner planner = planner_for(m);
    PinnedSettings pinned(m.timezone);
    if (source_modified_since_plan(m)) {
        // The next refresh rebuilds (a TRUNCATE, ATTACH ... was logged): every event
        // of the source is pending, never 0.
        const std::int64_t events = spi_exec(planner.source_row_count()).scalar_int();
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
    SqlResult r = spi_exec(planner.pending_summary(pq.select_sql), pq.params);
    pinned.close();
    return {std::stoll(*r.rows[0][0]), std::stoll(*r.rows[0][1]) + queued};
}

}  // namespace incmodel::pg
