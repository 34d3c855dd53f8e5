#include "pg/features_model.hpp"

#include <fmt/format.h>

#include "pg/query_analysis.hpp"
#include "pg/security.hpp"

namespace incmodel::pg {

namespace {

SqlParam num(std::int64_t v) {
    return SqlParam::value(std::to_string(v));
}

// INSERT the distinct queued keys up to $2 into the keys scratch, cast back to their types.
std::string queued_keys_sql(const ModelRecord &m, const core::RefreshPlanner &planner) {
    std::vector<std::string> cols, casts;
    for (size_t i = 0; i < m.spec.keys.size(); ++i) {
        cols.push_back(fmt::format("k{}", i + 1));
        casts.push_back(fmt::format("keys[{}]::{}", i + 1, m.spec.keys[i].type));
    }
    return fmt::format(
        "INSERT INTO {} ({}) SELECT DISTINCT {} FROM incmodel.key_queue WHERE model_id = $1::int8 "
        "AND id <= $2::int8",
        core::qualified(quote_ident, planner.scratch().keys), core::join(cols, ", "),
        core::join(casts, ", "));
}

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
        {num(m.spec.id)});
    QueueState q;
    if (r.rows[0][0]) q.max_id = std::stoll(*r.rows[0][0]);
    q.full = *r.rows[0][1] == "t";
    q.rows = std::stoll(*r.rows[0][2]);
    return q;
}

void consume_queue(const ModelRecord &m, std::int64_t max_id) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.key_queue WHERE model_id = $1::int8 AND id <= $2::int8",
             {num(m.spec.id), num(max_id)});
}

}  // namespace

bool run_features(RunDriver &driver, const ModelRecord &m) {
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
    if (!q.max_id) {
        driver.unit("commit", [&] {
            run.step_timings_json = driver.timings_json();
            finish_run(run, "noop");
        });
        return false;
    }
    if (q.full) {
        driver.unit("recompute", [&] {
            run.rows_inserted =
                static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
        });
        driver.unit("commit", [&] {
            run.rows_deleted =
                static_cast<std::int64_t>(spi_exec(planner.truncate_target()).processed);
            spi_exec(planner.insert_target_rows());
            consume_queue(m, *q.max_id);
            run.step_timings_json = driver.timings_json();
            finish_run(run, "success");
        });
        return true;
    }
    driver.unit("keys", [&] {
        run.keys = static_cast<std::int64_t>(
            spi_exec(queued_keys_sql(m, planner), {num(m.spec.id), num(*q.max_id)}).processed);
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
        add_dead_tuple_debt(m.target_oid, m.spec.id, run.rows_deleted);
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
        driver.report(fmt::format("commit: {} rows deleted, {} inserted", run.rows_deleted,
                                  run.rows_inserted));
    });
    return true;
}

std::int64_t rebuild_features(RunDriver &driver, const ModelRecord &m) {
    core::RefreshPlanner planner(m.spec, quote_ident);
    RunRecord &run = driver.run();
    QueueState q;
    driver.unit("plan", [&] {
        spi_exec(planner.truncate_scratch());
        q = queue_state(m);
    });
    driver.unit("recompute", [&] {
        run.rows_inserted = static_cast<std::int64_t>(spi_exec(planner.recompute_all()).processed);
    });
    driver.unit("commit", [&] {
        spi_exec(planner.truncate_target());
        spi_exec(planner.insert_target_rows());
        if (q.max_id) consume_queue(m, *q.max_id);
        {
            AsCatalogOwner owner;
            spi_exec("DELETE FROM incmodel.table_debt WHERE model_id = $1::int8", {num(m.spec.id)});
        }
        run.step_timings_json = driver.timings_json();
        finish_run(run, "success");
    });
    return run.rows_inserted;
}

void queue_for_dependents(const ModelRecord &input, const core::RefreshPlanner &planner, bool all) {
    SqlResult deps = spi_exec(
        "SELECT m.model_id, array_to_string(m.feature_keys, ',') FROM incmodel.models m WHERE "
        "m.depends_on @> ARRAY[$1]",
        {SqlParam::value(input.spec.name)});
    for (const SqlRow &d : deps.rows) {
        const SqlParam id = SqlParam::value(*d[0]);
        if (all) {
            spi_exec("INSERT INTO incmodel.key_queue (model_id, keys) VALUES ($1::int8, NULL)",
                     {id});
            continue;
        }
        std::vector<std::string> parts;
        std::string csv = *d[1];
        size_t start = 0;
        while (start < csv.size()) {
            size_t comma = csv.find(',', start);
            if (comma == std::string::npos) comma = csv.size();
            parts.push_back(fmt::format("k{}::text", csv.substr(start, comma - start)));
            start = comma + 1;
        }
        spi_exec(fmt::format("INSERT INTO incmodel.key_queue (model_id, keys) SELECT DISTINCT "
                             "$1::int8, ARRAY[{}] FROM {}",
                             core::join(parts, ", "),
                             core::qualified(quote_ident, planner.scratch().keys)),
                 {id});
    }
}

void require_no_dependents(const ModelRecord &m) {
    std::optional<std::string> dependent =
        spi_exec(
            "SELECT string_agg(name, ', ' ORDER BY name) FROM incmodel.models WHERE "
            "depends_on @> ARRAY[$1]",
            {SqlParam::value(m.spec.name)})
            .scalar();
    if (dependent)
        throw UserError(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                        "incmodel: other models depend on model \"" + m.spec.name + "\"",
                        "Depending on it: " + *dependent + ".", "Drop those models first.");
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
        {2, "keys", "the distinct queued keys", queued_keys_sql(m, planner)},
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
