// A model's life outside its runs: create_model (analysis, target, scratch tables, capture
// triggers, the first build by its kind), alter_model and drop_model.
#include "pg/models/model_ops.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/refresh_planner.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/model_catalog.hpp"
#include "pg/models/features_model.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/models/time_model.hpp"
#include "pg/capture/dimension_triggers.hpp"
#include "pg/models/batch_model.hpp"
#include "pg/models/model_runs.hpp"

namespace incmodel::pg {

namespace {

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
        else if (core::without_collation(*(*it)[1]) != core::without_collation(o.type))
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
    const std::vector<Oid> watched = watched_relations(m);
    delete_model(m.spec.id);
    if (m.change_log && OidIsValid(m.source_oid)) drop_change_trigger_if_unused(m);
    unwatch_dimensions(watched);
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

std::int64_t create_model(SpiConnection &spi, const CreateModelArgs &args) {
    if (args.name.empty())
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE, "incmodel: model name must not be empty");
    require_interval_not_negative(args.lookback);
    if (model_exists(args.name))
        throw UserError(ERRCODE_DUPLICATE_OBJECT,
                        "incmodel: model \"" + args.name + "\" already exists", "",
                        "Choose another name, or drop the model with incmodel.drop_model().");

    const bool features = !args.depends_on.empty();
    std::vector<ModelRecord> inputs;
    if (features) {
        if (!args.batch_column.empty() || args.load_column || args.strategy || args.event_key ||
            args.day_key || args.window_column)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: a features model takes no batch, load, window, strategy, "
                            "event_key or day_key settings",
                            "It is refreshed from the keys its input models touched.");
        inputs = load_feature_inputs(args.depends_on, args.name);
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
    const ModelQueryInput query_input{
        args.query,
        batch_column,
        args.window_column,
        args.unique_key,
        append ? args.event_key : std::nullopt,
        features ? inputs[0].target_oid : InvalidOid,
        features ? key_column_names(inputs[0]) : std::vector<std::string>{},
        daily && !append};
    AnalyzedQuery analyzed = analyze_model_query(query_input);
    std::vector<FeatureInput> feature_inputs;
    if (features) feature_inputs = map_feature_inputs(query_input, analyzed, inputs);
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
            if (!append && k.column == d.day_column) {
                d.day_expr = k.source_expr;
                d.day_range = k.day_range;
            }
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
    // The relations the query reads besides its source are watched from before the first build:
    // a change either precedes the build's reads or queues a full recompute.
    m.query_tree = query_tree_of(analyzed.canonical_query);
    std::vector<Oid> input_targets;
    for (const ModelRecord &in : inputs) input_targets.push_back(in.target_oid);
    m.on_dimension_change = args.on_dimension_change;
    require_dimension_routes(m, dimensions_of(m, input_targets));
    record_dimension_policy(m.spec.id, m.on_dimension_change);
    watch_dimensions(m, input_targets);

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
        set_features_inputs(m.spec.id, feature_inputs);
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
    with_run(spi, m, "rebuild", [&](RunDriver &driver) { rebuild_batch_model(driver, m); });
    if (created_target || !has_unique_key_index(target, m.spec)) {
        PinnedSettings again(timezone);
        spi_exec(planner.create_target_key_index());
    }
    return m.spec.id;
}

void alter_model(const AlterModelArgs &args) {
    LockedModel locked = lock_and_load(args.name, "alter", false, false);
    require_interval_not_negative(args.lookback);
    for (const auto &[column, value] : {std::pair{"vacuum_dead_ratio", args.vacuum_dead_ratio},
                                        std::pair{"analyze_mod_ratio", args.analyze_mod_ratio}})
        if (value && *value < 0)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            std::string("incmodel: ") + column + " must not be negative");
    ModelSettings settings;
    settings.lookback = args.lookback;
    settings.enabled = args.enabled;
    settings.bounded_recompute = args.bounded_recompute;
    settings.vacuum_dead_ratio = args.vacuum_dead_ratio;
    settings.analyze_mod_ratio = args.analyze_mod_ratio;
    set_model_settings(locked.model.spec.id, settings);
}

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

}  // namespace incmodel::pg
