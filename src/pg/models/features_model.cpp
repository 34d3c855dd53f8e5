#include "pg/models/model_runs.hpp"
#include "pg/models/features_model.hpp"

#include <fmt/format.h>

#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"

namespace incmodel::pg {

namespace {

// The queue's extent for m: its highest id and whether a full recompute is queued.
struct QueueState {
    std::optional<std::int64_t> max_id;
    bool full = false;
    std::int64_t rows = 0;
};
QueueState queue_state(const ModelRecord &m) {
    SqlResult r = spi_exec(
        "SELECT max(id), coalesce(bool_or(keys IS NULL), false), count(*) FROM "
        "incmodel.key_queue WHERE model_id = $1::int8",
        {SqlParam::int64(m.spec.id)});
    QueueState q;
    if (r.rows[0][0]) q.max_id = std::stoll(*r.rows[0][0]);
    q.full = *r.rows[0][1] == "t";
    q.rows = std::stoll(*r.rows[0][2]);
    return q;
}

void consume_queue(const ModelRecord &m, std::int64_t max_id) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.key_queue WHERE model_id = $1::int8 AND id <= $2::int8",
             {SqlParam::int64(m.spec.id), SqlParam::int64(max_id)});
}

}  // namespace

bool run_features(RunDriver &driver, const ModelRecord &m, bool full) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    RunRecord &run = driver.run();
    QueueState q;
    driver.unit("plan", [&] {
        spi_exec(planner.truncate_scratch());
        q = queue_state(m);
        run.events = q.rows;
        driver.report(fmt::format("plan: {} queued key sets{}", q.rows,
                                  q.full ? " (the input was rebuilt: full recompute)" : ""));
    });
    full = full || q.full;
    if (!full && !q.max_id) {
        driver.unit("commit", [&] {
            run.step_timings_json = driver.timings_json();
            finish_run(run, "noop");
        });
        return false;
    }
    if (full) {
        driver.unit("recompute", [&] {
            run.rows_inserted =
                static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
        });
        driver.unit("commit", [&] {
            spi_exec(planner.truncate_target());
            spi_exec(planner.insert_target_rows());
            if (q.max_id) consume_queue(m, *q.max_id);
            queue_for_dependents(m, planner, true);  // a features model over this one
            {
                AsCatalogOwner owner;
                spi_exec("DELETE FROM incmodel.table_debt WHERE model_id = $1::int8",
                         {SqlParam::int64(m.spec.id)});
            }
            run.step_timings_json = driver.timings_json();
            finish_run(run, "success");
        });
        return true;
    }
    driver.unit("keys", [&] {
        run.keys = static_cast<std::int64_t>(
            spi_exec(planner.features_queued_keys(),
                     {SqlParam::int64(m.spec.id), SqlParam::int64(*q.max_id)})
                .processed);
        spi_exec(planner.analyze_keys());
        run.null_keys = spi_exec(planner.count_null_keys()).scalar_int();
        driver.report(fmt::format("keys: {} keys touched", run.keys));
    });
    driver.unit("recompute", [&] {
        run.rows_inserted =
            static_cast<std::int64_t>(spi_exec(planner.recompute(run.null_keys > 0)).processed);
        driver.report(fmt::format("recompute: {} rows", run.rows_inserted));
    });
    driver.unit("commit", [&] {
        run.rows_deleted = replace_touched_keys(planner, run.null_keys);
        consume_queue(m, *q.max_id);
        queue_for_dependents(m, planner, false);  // the next level recomputes these keys
        add_dead_tuple_debt(m.target_oid, m.spec.id, run.rows_deleted);
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
        driver.report(fmt::format("commit: {} rows deleted, {} inserted", run.rows_deleted,
                                  run.rows_inserted));
    });
    return true;
}

namespace {

// feature_keys as text ("{2,1}") to the 1-based key positions it lists.
std::vector<int> parse_positions(const std::string &text) {
    std::vector<int> out;
    std::string digits;
    for (char ch : text) {
        if (ch >= '0' && ch <= '9') {
            digits += ch;
        } else if (!digits.empty()) {
            out.push_back(std::stoi(digits));
            digits.clear();
        }
    }
    return out;
}

}  // namespace

void queue_for_dependents(const ModelRecord &input, const core::RefreshPlanner &planner, bool all) {
    const SqlParam name = SqlParam::value(input.spec.name);
    std::vector<std::pair<std::int64_t, std::vector<int>>> dependents;
    {
        AsCatalogOwner owner;
        if (all) {
            spi_exec(planner.queue_full_recompute_for_dependents(), {name});
            return;
        }
        for (const auto &row : spi_exec(planner.dependents(), {name}).rows)
            dependents.emplace_back(std::stoll(*row[0]), parse_positions(*row[1]));
    }
    if (dependents.empty()) return;
    // Read as the input's owner (the unit's identity): the keys scratch is the owner's table.
    const SqlResult keys = spi_exec(planner.scratch_keys_as_text());
    if (keys.rows.empty()) return;
    for (const auto &[model_id, positions] : dependents) {
        std::vector<SqlParam> params{SqlParam::int64(model_id)};
        for (int position : positions) {
            std::vector<std::optional<std::string>> part;
            part.reserve(keys.rows.size());
            for (const SqlRow &row : keys.rows) part.push_back(row.at(position - 1));
            params.push_back(SqlParam::text_array(std::move(part)));
        }
        AsCatalogOwner owner;
        spi_exec(planner.queue_keys(positions.size()), params);
    }
}

std::vector<std::string> dependent_model_names(const ModelRecord &m) {
    AsCatalogOwner owner;
    std::vector<std::string> names;
    for (const auto &row : spi_exec("SELECT name FROM incmodel.models WHERE depends_on "
                                    "OPERATOR(pg_catalog.@>) ARRAY[$1::pg_catalog.text] ORDER BY "
                                    "name",
                                    {SqlParam::value(m.spec.name)})
                               .rows)
        names.push_back(*row[0]);
    return names;
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
        int position = 0;
        for (size_t i = 0; i < input.spec.keys.size(); ++i)
            if (k.source_expr ==
                quote_ident(features.source_alias) + "." + quote_ident(input.spec.keys[i].column))
                position = static_cast<int>(i) + 1;
        if (position == 0) {
            std::string keys;
            for (const auto &ik : input.spec.keys) keys += (keys.empty() ? "" : ", ") + ik.column;
            throw UserError(ERRCODE_INVALID_COLUMN_REFERENCE,
                            "incmodel: GROUP BY \"" + k.column +
                                "\" of a features model must be a key column of its input",
                            "The input model's key is (" + keys + ").",
                            "Group by key columns of the input (e.g. the user id) so that the "
                            "input's runs tell which rows to recompute.");
        }
        out.push_back(position);
    }
    return out;
}

std::vector<ExplainRow> explain_features(const ModelRecord &m) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    QueueState q = queue_state(m);
    return {
        {1, "plan",
         fmt::format("{} queued key sets from model {}{}", q.rows, m.depends_on.at(0),
                     q.full ? " (the input was rebuilt: full recompute)" : ""),
         "SELECT max(id) FROM incmodel.key_queue WHERE model_id = $1"},
        {2, "keys", "the distinct queued keys", planner.features_queued_keys()},
        {3, "recompute", "touched keys recomputed from the input's target",
         planner.recompute(false)},
        {4, "commit",
         "one transaction: delete touched keys, insert recomputed rows, consume the queue",
         planner.delete_target_keys() + ";\n" + planner.insert_target_rows()},
    };
}

Pending pending_features(const ModelRecord &m) {
    return {std::nullopt, queue_state(m).rows};
}

}  // namespace incmodel::pg
