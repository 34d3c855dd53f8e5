#include "pg/catalog/model_catalog.hpp"

#include "core/version.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"

extern "C" {
#include "access/xlog.h"
}

namespace incmodel::pg {

namespace {

std::string str(const std::optional<std::string> &v) {
    return v.value_or("");
}
bool boolean(const std::optional<std::string> &v) {
    return v && *v == "t";
}

// The current schema and name of a relation, or 42P01 when it was dropped behind our back.
core::QualifiedName relation_name(Oid relid, const std::string &model, const char *role) {
    const char *name = pg_call([relid] { return get_rel_name(relid); });
    if (name == nullptr)
        throw UserError(
            ERRCODE_UNDEFINED_TABLE,
            "incmodel: the " + std::string(role) + " of model \"" + model + "\" no longer exists",
            "It was dropped after the model was created.",
            "Drop the model with incmodel.drop_model() and create it again.");
    const char *schema = pg_call([relid] { return get_namespace_name(get_rel_namespace(relid)); });
    return {schema, name};
}

// The library and the installed SQL must be the same release: a newer library on an older
// catalog would misread it. Raised before any catalog access.
void require_catalog_version() {
    std::optional<std::string> installed =
        spi_exec("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'incmodel'")
            .scalar();
    if (installed && *installed != core::kVersion)
        throw UserError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "incmodel: the installed extension is version " + *installed +
                            " but its library is " + core::kVersion,
                        "The library was upgraded; the extension's SQL objects were not.",
                        "Run ALTER EXTENSION incmodel UPDATE.");
}

// Where a plan snapshot means something: its xids belong to one cluster (system identifier), the
// change log it is read against to one database and one source relation (OIDs). A snapshot
// recorded anywhere else (a dump restored into another database or cluster, or over a recreated
// source) must not be trusted: rows logged there could look already seen.
std::string snapshot_origin(Oid source) {
    const uint64 system = pg_call([] { return GetSystemIdentifier(); });
    return std::to_string(system) + "/" + std::to_string(MyDatabaseId) + "/" +
           std::to_string(source);
}

// Where a query tree was stored: its OIDs name objects of one cluster and database only.
std::string tree_origin() {
    const uint64 system = pg_call([] { return GetSystemIdentifier(); });
    return std::to_string(system) + "/" + std::to_string(MyDatabaseId);
}

// Replaces the stored texts of a model's query with those rendered from its tree under the
// current names (as the target's owner: deparsing calls the output functions of its
// constants). Skipped when there is no tree or a relation is gone (only a dropped model loads
// so); raises a clear error when something the query reads was dropped.
void render_from_tree(ModelRecord &m) {
    if (m.query_tree.empty()) return;
    std::vector<std::string> key_names;
    for (const auto &k : m.spec.keys) key_names.push_back(k.column);
    RenderedQuery r;
    {
        AsModelOwner as_owner(m.target_oid);
        r = render_model_query(m.spec.name, m.query_tree, m.source_oid, key_names);
    }
    core::ModelSpec &s = m.spec;
    bool changed = r.canonical_query != m.canonical_query || r.spec.query_head != s.query_head ||
                   r.spec.query_tail != s.query_tail || r.spec.source_alias != s.source_alias ||
                   r.spec.alias_in_query != s.alias_in_query;
    for (size_t i = 0; i < s.keys.size(); ++i) {
        changed = changed || s.keys[i].source_expr != r.key_exprs[i];
        s.keys[i].source_expr = r.key_exprs[i];
        s.keys[i].equality = r.key_equalities[i];  // not stored: rendered from the tree
    }
    s.source_filter = r.spec.source_filter;
    m.canonical_query = r.canonical_query;
    s.query_head = r.spec.query_head;
    s.query_tail = r.spec.query_tail;
    s.source_alias = r.spec.source_alias;
    s.alias_in_query = r.spec.alias_in_query;
    m.texts_changed = changed;
}

}  // namespace

std::vector<std::string> dedupe_order(Oid source, const std::string &load_column) {
    std::vector<std::string> order{load_column};
    bool has_dvce = pg_call(
        [source] { return get_attnum(source, "dvce_created_tstamp") != InvalidAttrNumber; });
    if (has_dvce) order.emplace_back("dvce_created_tstamp");
    return order;
}

ModelRecord load_model(const std::string &name, bool require_relations) {
    AsCatalogOwner owner;
    require_catalog_version();
    SqlResult r = spi_exec(
        "SELECT model_id, query, query_head, query_tail, alias_in_query, source::oid, "
        "source_alias, source_only, batch_column, batch_type, window_column, lookback::text, "
        "target::oid, bounded_recompute, timezone, enabled, owner::oid, canonical_query, "
        "change_log, planned_snapshot::text, load_column, start_date::text, backfill_limit::text, "
        "day_key, reprocess_days, min_rows_to_process, upper_limit::text, strategy, event_key, "
        "depends_on[1], planned_origin, query_tree, query_origin FROM "
        "incmodel.models WHERE name = $1",
        {SqlParam::value(name)});
    if (r.rows.empty())
        throw UserError(ERRCODE_UNDEFINED_OBJECT, "incmodel: model \"" + name + "\" does not exist",
                        "", "SELECT name FROM incmodel.models lists the models.");
    const SqlRow &row = r.rows[0];
    ModelRecord m;
    core::ModelSpec &s = m.spec;
    s.id = std::stoll(str(row[0]));
    s.name = name;
    m.query = str(row[1]);
    s.query_head = str(row[2]);
    s.query_tail = str(row[3]);
    s.alias_in_query = boolean(row[4]);
    m.source_oid = static_cast<Oid>(std::stoul(str(row[5])));
    s.source_alias = str(row[6]);
    s.source_only = boolean(row[7]);
    s.batch_column = str(row[8]);
    s.batch_type = str(row[9]);
    s.window_column = row[10];
    m.lookback = row[11];
    if (!m.lookback) s.window_column.reset();
    m.target_oid = static_cast<Oid>(std::stoul(str(row[12])));
    s.bounded_recompute = boolean(row[13]) && s.window_column.has_value();
    m.timezone = str(row[14]);
    m.enabled = boolean(row[15]);
    m.owner_oid = static_cast<Oid>(std::stoul(str(row[16])));
    m.canonical_query = str(row[17]);
    m.change_log = boolean(row[18]);
    m.planned_snapshot = row[19];
    m.upper_limit = row[26];

    SqlResult cols = spi_exec(
        "SELECT kind, name, type, source_expr FROM incmodel.model_columns WHERE model_id = "
        "$1::int8 "
        "ORDER BY kind, ord",
        {SqlParam::int64(s.id)});
    for (const SqlRow &c : cols.rows) {
        const std::string kind = str(c[0]);
        if (kind == "output")
            s.outputs.push_back({str(c[1]), str(c[2])});
        else if (kind == "key")
            s.keys.push_back({str(c[1]), str(c[3]), str(c[2])});
        else
            s.unique_columns.push_back(str(c[1]));
    }
    if (row[31] && row[32] == std::optional<std::string>(tree_origin())) m.query_tree = *row[31];
    auto exists = [](Oid rel) { return pg_call([rel] { return get_rel_name(rel); }) != nullptr; };
    if (require_relations && exists(m.source_oid) && exists(m.target_oid)) render_from_tree(m);
    if (row[29]) m.depends_on = {*row[29]};  // one input model (create_model accepts one)
    if (row[20]) {
        core::TimeSpec d;
        d.load_column = str(row[20]);
        d.load_type = s.batch_type;
        d.start_date = str(row[21]);
        d.backfill_limit = str(row[22]);
        d.day_column = str(row[23]);
        d.reprocess_days = std::stoi(str(row[24]));
        d.min_rows_to_process = std::stoll(str(row[25]));
        for (const auto &k : s.keys)
            if (k.column == d.day_column) d.day_expr = k.source_expr;
        d.append = str(row[27]) == "append";
        if (d.append) {
            d.event_key = str(row[28]);
            d.dedupe_order = dedupe_order(m.source_oid, d.load_column);
        }
        s.time = d;
    }
    if (require_relations || exists(m.source_oid))
        s.source = relation_name(m.source_oid, name, "source");
    else
        m.source_oid = InvalidOid;
    if (require_relations || exists(m.target_oid))
        s.target = relation_name(m.target_oid, name, "target");
    else
        m.target_oid = InvalidOid;
    // A snapshot taken elsewhere is as good as none: the plan counts the source's batches once.
    if (m.planned_snapshot && row[30] != std::optional<std::string>(snapshot_origin(m.source_oid)))
        m.planned_snapshot.reset();
    return m;
}

std::vector<std::string> enabled_model_names() {
    AsCatalogOwner owner;
    // Inputs before the models that depend on them, through every level of a chain: ordered by
    // the longest path from a model without inputs (a DAG; create_model refuses cycles, and the
    // depth bound keeps a corrupt catalog from looping).
    SqlResult r = spi_exec(
        "WITH RECURSIVE lvl(name, depth) AS (SELECT name, 0 FROM incmodel.models WHERE depends_on "
        "IS NULL UNION ALL SELECT m.name, l.depth + 1 FROM incmodel.models m JOIN lvl l ON "
        "m.depends_on OPERATOR(pg_catalog.@>) ARRAY[l.name] WHERE l.depth < 64) "
        "SELECT m.name FROM incmodel.models m LEFT JOIN (SELECT name, max(depth) AS depth FROM lvl "
        "GROUP BY name) d ON d.name = m.name WHERE m.enabled ORDER BY coalesce(d.depth, "
        "0), m.name",
        {});
    std::vector<std::string> names;
    for (const SqlRow &row : r.rows) names.push_back(str(row[0]));
    return names;
}

std::int64_t insert_model(const ModelRecord &m, const std::string &canonical_query) {
    // The tree of the text just analyzed, analyzed again as its creator (as the caller's
    // analysis ran): from here on the model's query follows renames.
    const std::string tree = query_tree_of(canonical_query);
    AsCatalogOwner owner;
    require_catalog_version();
    const core::ModelSpec &s = m.spec;
    const std::optional<core::TimeSpec> &time_spec = s.time;  // daily or append
    auto opt = [](const std::optional<std::string> &v) {
        return v ? SqlParam::value(*v) : SqlParam::null();
    };
    SqlResult r = spi_exec(
        "INSERT INTO incmodel.models (name, query, canonical_query, query_head, query_tail, "
        "alias_in_query, source, source_alias, source_only, batch_column, batch_type, "
        "window_column, lookback, target, bounded_recompute, timezone, enabled, owner, "
        "load_column, "
        "start_date, backfill_limit, day_key, reprocess_days, min_rows_to_process, strategy, "
        "event_key, query_tree, query_origin) VALUES "
        "($1, $2, $3, $4, $5, $6::boolean, $7::oid::regclass, $8, $9::boolean, $10, $11, $12, "
        "$13::interval, $14::oid::regclass, $15::boolean, $16, $17::boolean, $18::oid::regrole, "
        "$19, $20::timestamptz, $21::interval, $22, $23::int, $24::int8, $25, $26, $27, $28) "
        "RETURNING "
        "model_id",
        {SqlParam::value(s.name),
         SqlParam::value(m.query),
         SqlParam::value(canonical_query),
         SqlParam::value(s.query_head),
         SqlParam::value(s.query_tail),
         SqlParam::value(s.alias_in_query ? "true" : "false"),
         SqlParam::value(std::to_string(m.source_oid)),
         SqlParam::value(s.source_alias),
         SqlParam::value(s.source_only ? "true" : "false"),
         SqlParam::value(s.batch_column),
         SqlParam::value(s.batch_type),
         opt(s.window_column),
         opt(m.lookback),
         SqlParam::value(std::to_string(m.target_oid)),
         SqlParam::value(s.bounded_recompute ? "true" : "false"),
         SqlParam::value(m.timezone),
         SqlParam::value(m.enabled ? "true" : "false"),
         SqlParam::value(std::to_string(pg_call([] { return GetUserId(); }))),
         time_spec ? SqlParam::value(time_spec->load_column) : SqlParam::null(),
         time_spec ? SqlParam::value(time_spec->start_date) : SqlParam::null(),
         time_spec ? SqlParam::value(time_spec->backfill_limit) : SqlParam::null(),
         time_spec && !time_spec->append ? SqlParam::value(time_spec->day_column)
                                         : SqlParam::null(),
         time_spec ? SqlParam::value(std::to_string(time_spec->reprocess_days)) : SqlParam::null(),
         time_spec ? SqlParam::value(std::to_string(time_spec->min_rows_to_process))
                   : SqlParam::null(),
         SqlParam::value(time_spec && time_spec->append ? "append" : "recompute"),
         time_spec && time_spec->append ? SqlParam::value(time_spec->event_key) : SqlParam::null(),
         SqlParam::value(tree),
         SqlParam::value(tree_origin())});
    const std::int64_t id = r.scalar_int();
    const std::string insert_col =
        "INSERT INTO incmodel.model_columns (model_id, kind, ord, name, type, source_expr) VALUES "
        "($1::int8, $2, $3::int, $4, $5, $6)";
    int ord = 0;
    for (const auto &o : s.outputs)
        spi_exec(insert_col, {SqlParam::int64(id), SqlParam::value("output"),
                              SqlParam::value(std::to_string(++ord)), SqlParam::value(o.name),
                              SqlParam::value(o.type), SqlParam::null()});
    ord = 0;
    for (const auto &k : s.keys)
        spi_exec(insert_col, {SqlParam::int64(id), SqlParam::value("key"),
                              SqlParam::value(std::to_string(++ord)), SqlParam::value(k.column),
                              SqlParam::value(k.type), SqlParam::value(k.source_expr)});
    ord = 0;
    for (const auto &u : s.unique_columns)
        spi_exec(insert_col, {SqlParam::int64(id), SqlParam::value("unique"),
                              SqlParam::value(std::to_string(++ord)), SqlParam::value(u),
                              SqlParam::null(), SqlParam::null()});
    return id;
}

void store_query_tree(ModelRecord &m) {
    if (m.query_tree.empty()) {
        // A model created before 0.3.0 or restored from a dump: its canonical text still names
        // what it read (it was rendered at its last load); analyzed as the target's owner.
        AsModelOwner as_owner(m.target_oid);
        m.query_tree = query_tree_of(m.canonical_query);
    }
    AsCatalogOwner owner;
    const SqlParam id = SqlParam::int64(m.spec.id);
    spi_exec(
        "UPDATE incmodel.models SET query_tree = $2, query_origin = $3, canonical_query = $4, "
        "query_head = $5, query_tail = $6, source_alias = $7, alias_in_query = $8::boolean WHERE "
        "model_id = $1::int8",
        {id, SqlParam::value(m.query_tree), SqlParam::value(tree_origin()),
         SqlParam::value(m.canonical_query), SqlParam::value(m.spec.query_head),
         SqlParam::value(m.spec.query_tail), SqlParam::value(m.spec.source_alias),
         SqlParam::value(m.spec.alias_in_query ? "true" : "false")});
    int ord = 0;
    for (const auto &k : m.spec.keys)
        spi_exec(
            "UPDATE incmodel.model_columns SET source_expr = $3 WHERE model_id = $1::int8 AND kind "
            "= 'key' AND ord = $2::int",
            {id, SqlParam::value(std::to_string(++ord)), SqlParam::value(k.source_expr)});
    m.texts_changed = false;
}

bool record_failed_run(const std::string &name, std::int64_t model_id, const char *kind,
                       const char *step, const std::exception_ptr &error) {
    const ErrorSummary e = describe_error(error);
    const std::string &sqlstate = e.sqlstate;
    const std::string &message = e.message;
    if (sqlstate == "42501") return false;
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "INSERT INTO incmodel.runs (model_id, model_name, kind, finished_at, outcome, "
        "failed_step, error_sqlstate, error_message) SELECT model_id, name, $2, "
        "clock_timestamp(), 'failed', $3, $4, $5 FROM incmodel.models WHERE name = $1 AND $6::int8 "
        "= 0 UNION ALL SELECT $6::int8, $1, $2, clock_timestamp(), 'failed', $3, $4, $5 WHERE "
        "$6::int8 <> 0",
        {SqlParam::value(name), SqlParam::value(kind), SqlParam::value(step),
         SqlParam::value(sqlstate), SqlParam::value(message), SqlParam::int64(model_id)});
    return r.processed > 0;
}

void set_planned_snapshot(const ModelRecord &m, const std::string &snapshot) {
    AsCatalogOwner owner;
    const std::string origin = snapshot_origin(m.source_oid);
    spi_exec(
        "UPDATE incmodel.models SET planned_snapshot = $2::pg_snapshot, planned_origin = $3 WHERE "
        "model_id = $1::int8",
        {SqlParam::int64(m.spec.id), SqlParam::value(snapshot), SqlParam::value(origin)});
    if (!m.change_log) return;
    // Snapshots recorded elsewhere do not hold rows back: their models count their batches.
    spi_exec(
        "DELETE FROM incmodel.source_changes c WHERE c.source = $1::oid AND c.batch_column = $2 "
        "AND "
        "c.txid < (SELECT min(pg_catalog.pg_snapshot_xmin(planned_snapshot)) FROM incmodel.models "
        "WHERE source = $1::oid::regclass AND batch_column = $2 AND change_log AND planned_origin "
        "= $3)",
        {SqlParam::value(std::to_string(m.source_oid)), SqlParam::value(m.spec.batch_column),
         SqlParam::value(origin)});
    // 'modify' rows concern every model of the source, whatever its batch column.
    spi_exec(
        "DELETE FROM incmodel.source_changes c WHERE c.source = $1::oid AND c.kind = 'modify' AND "
        "c.txid < (SELECT min(pg_catalog.pg_snapshot_xmin(planned_snapshot)) FROM incmodel.models "
        "WHERE source = $1::oid::regclass AND change_log AND planned_origin = $2)",
        {SqlParam::value(std::to_string(m.source_oid)), SqlParam::value(origin)});
}

void set_features_input(std::int64_t model_id, const std::vector<std::string> &depends_on,
                        const std::vector<int> &feature_keys) {
    AsCatalogOwner owner;
    std::vector<std::string> keys;
    for (int k : feature_keys) keys.push_back(std::to_string(k));
    spi_exec(
        "UPDATE incmodel.models SET depends_on = $2::text[], feature_keys = $3::text[]::int[] "
        "WHERE model_id = $1::int8",
        {SqlParam::int64(model_id), SqlParam::text_array(depends_on), SqlParam::text_array(keys)});
}

void set_change_log(std::int64_t model_id, bool on) {
    AsCatalogOwner owner;
    spi_exec("UPDATE incmodel.models SET change_log = $2::boolean WHERE model_id = $1::int8",
             {SqlParam::int64(model_id), SqlParam::value(on ? "true" : "false")});
}

void delete_model(std::int64_t model_id) {
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.table_debt WHERE model_id = $1::int8",
             {SqlParam::int64(model_id)});
    spi_exec("DELETE FROM incmodel.models WHERE model_id = $1::int8", {SqlParam::int64(model_id)});
}

std::int64_t start_run(const ModelRecord &m, const std::string &kind) {
    AsCatalogOwner owner;
    return spi_exec(
               "INSERT INTO incmodel.runs (model_id, model_name, kind) VALUES ($1::int8, $2, $3) "
               "RETURNING run_id",
               {SqlParam::int64(m.spec.id), SqlParam::value(m.spec.name), SqlParam::value(kind)})
        .scalar_int();
}

void finish_run(const RunRecord &run, const char *outcome) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET finished_at = clock_timestamp(), outcome = $2, batches = "
        "$3::int, events = $4::int8, keys = $5::int8, null_keys = $6::int8, rows_deleted = "
        "$7::int8, rows_inserted = $8::int8, keys_outside_window = $9::int8, window_start = "
        "$10::timestamptz, step_ms = $11::jsonb, lower_limit = $12::timestamptz, upper_limit = "
        "$13::timestamptz, late_rows = $14::int8, days_reprocessed = $15::int WHERE run_id = "
        "$1::int8",
        {SqlParam::int64(run.run_id), SqlParam::value(outcome), SqlParam::int64(run.batches),
         SqlParam::int64(run.events), SqlParam::int64(run.keys), SqlParam::int64(run.null_keys),
         SqlParam::int64(run.rows_deleted), SqlParam::int64(run.rows_inserted),
         SqlParam::int64(run.keys_outside_window),
         run.window_start ? SqlParam::value(*run.window_start) : SqlParam::null(),
         SqlParam::value(run.step_timings_json),
         run.lower_limit ? SqlParam::value(*run.lower_limit) : SqlParam::null(),
         run.upper_limit ? SqlParam::value(*run.upper_limit) : SqlParam::null(),
         run.upper_limit ? SqlParam::int64(run.late_rows) : SqlParam::null(),
         run.upper_limit ? SqlParam::int64(run.days_reprocessed) : SqlParam::null()});
}

void fail_run(std::int64_t run_id, const std::string &step, const std::string &sqlstate,
              const std::string &message) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET finished_at = clock_timestamp(), outcome = 'failed', "
        "failed_step = $2, error_sqlstate = $3, error_message = $4 WHERE run_id = $1::int8",
        {SqlParam::int64(run_id), SqlParam::value(step), SqlParam::value(sqlstate),
         SqlParam::value(message)});
}

void close_abandoned_runs(std::int64_t model_id) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.runs SET finished_at = clock_timestamp(), outcome = 'failed', "
        "error_message = 'the run ended without finishing (its backend exited or the server "
        "restarted)' WHERE model_id = $1::int8 AND outcome = 'running'",
        {SqlParam::int64(model_id)});
}

void add_dead_tuple_debt(Oid target, std::int64_t model_id, std::int64_t dead_tuples) {
    if (dead_tuples <= 0) return;
    AsCatalogOwner owner;
    spi_exec(
        "INSERT INTO incmodel.table_debt AS d (target, model_id, dead_tuples) VALUES "
        "($1::oid::regclass, $2::int8, $3::int8) ON CONFLICT (target) DO UPDATE SET dead_tuples = "
        "d.dead_tuples + EXCLUDED.dead_tuples, updated_at = now()",
        {SqlParam::value(std::to_string(target)), SqlParam::int64(model_id),
         SqlParam::value(std::to_string(dead_tuples))});
}

}  // namespace incmodel::pg
