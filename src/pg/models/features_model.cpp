#include "pg/models/model_runs.hpp"
#include "pg/models/features_model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pg/analysis/feature_keys.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/catalog/key_queue.hpp"

namespace incmodel::pg {

namespace {

// The input's touched keys (rows of text) projected through a dependent's key expressions,
// evaluated as the dependent's owner: the expressions are that model's SQL, never run with the
// catalog owner's rights nor the input owner's.
KeyColumns project_on_dependent(const core::RefreshPlanner &planner, const Dependent &d,
                                const SqlResult &keys) {
    std::vector<SqlParam> params;
    for (size_t part = 0; part < keys.rows.at(0).size(); ++part) {
        std::vector<std::optional<std::string>> values;
        values.reserve(keys.rows.size());
        for (const SqlRow &row : keys.rows) values.push_back(row.at(part));
        params.push_back(SqlParam::text_array(std::move(values)));
    }
    SqlResult projected;
    {
        AsModelOwner owner(static_cast<Oid>(d.target_oid));
        projected = spi_exec(planner.project_keys(d.key_exprs, kFeatureInputAlias), params);
    }
    KeyColumns parts(d.key_exprs.size());
    for (const SqlRow &row : projected.rows)
        for (size_t i = 0; i < parts.size(); ++i) parts[i].push_back(row.at(i));
    return parts;
}

}  // namespace

bool run_features(RunDriver &driver, const ModelRecord &m, bool full) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    RunRecord &run = driver.run();
    QueuedKeySets q;
    driver.unit("plan", [&] {
        driver.more_units_follow();
        clear_scratch(planner, m.spec.time.has_value());
        q = queued_key_sets(planner, m.spec.id);
        run.events = static_cast<std::int64_t>(q.ids.size());
        driver.report(fmt::format("plan: {} queued key sets{}", q.ids.size(),
                                  q.full ? " (the input was rebuilt: full recompute)" : ""));
    });
    full = full || q.full;
    if (!full && q.ids.empty()) {
        driver.unit("commit", [&] {
            run.step_timings_json = driver.timings_json();
            finish_run(run, "noop");
        });
        return false;
    }
    if (full) {
        driver.unit("recompute", [&] {
            driver.more_units_follow();
            run.rows_inserted =
                static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
        });
        driver.unit("commit", [&] {
            spi_exec(planner.truncate_target());
            spi_exec(planner.insert_target_rows());
            consume_key_sets(planner, m.spec.id, q.ids);
            queue_for_dependents(m, planner, true);  // a features model over this one
            forget_model_debt(m.spec.id);
            run.step_timings_json = driver.timings_json();
            finish_run(run, "success");
        });
        return true;
    }
    driver.unit("keys", [&] {
        driver.more_units_follow();
        run.keys = static_cast<std::int64_t>(
            spi_exec(planner.features_queued_keys(),
                     {SqlParam::int64(m.spec.id), SqlParam::text_array(q.ids)})
                .processed);
        spi_exec(planner.analyze_keys());
        run.null_keys = spi_exec(planner.count_null_keys()).scalar_int();
        driver.report(fmt::format("keys: {} keys touched", run.keys));
    });
    driver.unit("recompute", [&] {
        driver.more_units_follow();
        run.rows_inserted =
            static_cast<std::int64_t>(spi_exec(planner.recompute(run.null_keys > 0)).processed);
        driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
    });
    driver.unit("commit", [&] {
        run.rows_deleted = replace_touched_keys(planner, run.null_keys);
        consume_key_sets(planner, m.spec.id, q.ids);
        queue_for_dependents(m, planner, false);  // the next level recomputes these keys
        add_dead_tuple_debt(m.target_oid, m.spec.id, run.rows_deleted);
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
        driver.report(fmt::format("commit: {} rows deleted, {} inserted", run.rows_deleted,
                                  run.rows_inserted));
    });
    return true;
}

void queue_for_dependents(const ModelRecord &input, const core::RefreshPlanner &planner, bool all) {
    if (all) {
        queue_full_recompute_of_dependents(planner, input.spec.name);
        return;
    }
    const std::vector<Dependent> dependents = dependents_of(planner, input.spec.name);
    if (dependents.empty()) return;
    // Read as the input's owner (the unit's identity): the keys scratch is the owner's table.
    const SqlResult keys = spi_exec(planner.scratch_keys_as_text());
    if (keys.rows.empty()) return;
    for (const Dependent &d : dependents) {
        if (!d.key_exprs.empty()) {
            queue_key_sets(planner, d.model_id, project_on_dependent(planner, d, keys));
            continue;
        }
        KeyColumns parts;
        for (int position : d.positions) {
            std::vector<std::optional<std::string>> part;
            part.reserve(keys.rows.size());
            for (const SqlRow &row : keys.rows) part.push_back(row.at(position - 1));
            parts.push_back(std::move(part));
        }
        queue_key_sets(planner, d.model_id, std::move(parts));
    }
}

std::vector<std::string> dependent_model_names(const ModelRecord &m) {
    return dependent_names(m.spec.name);
}

void require_no_dependents(const ModelRecord &m) {
    const std::vector<std::string> names = dependent_model_names(m);
    if (names.empty()) return;
    std::string listed;
    for (const auto &n : names) listed += (listed.empty() ? "" : ", ") + n;
    throw UserError(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                    "incmodel: other models depend on model \"" + m.spec.name + "\"",
                    "Depending on it: " + listed + ".",
                    "Drop those models first, or drop this one with cascade => true.");
}

std::vector<int> map_feature_keys(const core::ModelSpec &features, const ModelRecord &input) {
    std::vector<int> out;
    for (const auto &k : features.keys) {
        int position = 0;  // an expression of the input's key columns (the analysis checked it)
        for (size_t i = 0; i < input.spec.keys.size(); ++i)
            if (k.source_expr ==
                quote_ident(features.source_alias) + "." + quote_ident(input.spec.keys[i].column))
                position = static_cast<int>(i) + 1;
        out.push_back(position);
    }
    return out;
}

std::vector<std::string> key_column_names(const ModelRecord &input) {
    std::vector<std::string> out;
    for (const auto &k : input.spec.keys) out.push_back(k.column);
    return out;
}

std::vector<ExplainRow> explain_features(const ModelRecord &m) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    const QueuedKeySets q = queued_key_sets(planner, m.spec.id);
    return {
        {1, "plan",
         fmt::format("{} queued key sets from model{} {}{}", q.ids.size(),
                     m.depends_on.size() > 1 ? "s" : "", fmt::join(m.depends_on, ", "),
                     q.full ? " (the input was rebuilt: full recompute)" : ""),
         planner.queued_key_ids()},
        {2, "keys", "the distinct queued keys", planner.features_queued_keys()},
        {3, "recompute", "touched keys recomputed from the input's target",
         planner.recompute(false)},
        {4, "commit",
         "one transaction: delete touched keys, insert recomputed rows, consume the queue",
         planner.delete_target_keys() + ";\n" + planner.insert_target_rows()},
    };
}

Pending pending_features(const ModelRecord &m) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    return {std::nullopt,
            static_cast<std::int64_t>(queued_key_sets(planner, m.spec.id).ids.size())};
}

}  // namespace incmodel::pg
