#include "pg/catalog/model_catalog.hpp"

#include <fmt/format.h>

#include "core/version.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/catalog/change_log_rows.hpp"
#include "pg/catalog/watchers_scan.hpp"

extern "C" {
#include "access/xlog.h"
}

namespace incmodel::pg {

namespace {

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
        r = render_model_query(m.spec.name, m.query_tree, m.source_oid, key_names, m.timezone);
    }
    core::ModelSpec &s = m.spec;
    bool changed = r.canonical_query != m.canonical_query || r.spec.query_head != s.query_head ||
                   r.spec.query_tail != s.query_tail || r.spec.source_alias != s.source_alias ||
                   r.spec.alias_in_query != s.alias_in_query;
    for (size_t i = 0; i < s.keys.size(); ++i) {
        changed = changed || s.keys[i].source_expr != r.key_exprs[i];
        s.keys[i].source_expr = r.key_exprs[i];
        s.keys[i].equality = r.key_equalities[i];  // not stored: rendered from the tree
        s.keys[i].through = r.key_through[i];
        s.keys[i].day_range = r.key_day_ranges[i];  // not stored either
    }
    s.source_filter = r.spec.source_filter;
    m.canonical_query = r.canonical_query;
    s.query_head = r.spec.query_head;
    s.query_tail = r.spec.query_tail;
    s.source_alias = r.spec.source_alias;
    s.alias_in_query = r.spec.alias_in_query;
    m.texts_changed = changed;
}

// A features model's inputs in the order create_model got them (empty for other models).
std::vector<std::string> input_models(std::int64_t model_id) {
    SqlResult r = spi_exec(
        "SELECT i.input FROM incmodel.models m CROSS JOIN LATERAL pg_catalog.unnest(m.depends_on) "
        "WITH ORDINALITY AS i(input, ord) WHERE m.model_id = $1::int8 ORDER BY i.ord",
        {SqlParam::int64(model_id)});
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i) out.push_back(NamedRow(r, i).text("input"));
    return out;
}

}  // namespace

std::vector<std::string> dedupe_order(Oid source, const std::string &load_column) {
    std::vector<std::string> order{load_column};
    bool has_dvce = pg_call(
        [source] { return get_attnum(source, "dvce_created_tstamp") != InvalidAttrNumber; });
    if (has_dvce) order.emplace_back("dvce_created_tstamp");
    return order;
}

namespace {

// 42704 with a hint, for every read of a model by name.
[[noreturn]] void no_such_model(const std::string &name) {
    throw UserError(ERRCODE_UNDEFINED_OBJECT, "incmodel: model \"" + name + "\" does not exist", "",
                    "SELECT name FROM incmodel.models lists the models.");
}

}  // namespace

ModelIdentity model_identity(const std::string &name) {
    AsCatalogOwner owner;
    require_catalog_version();
    SqlResult r = spi_exec(
        "SELECT model_id, target::pg_catalog.oid AS target FROM incmodel.models WHERE name "
        "OPERATOR(pg_catalog.=) $1",
        {SqlParam::value(name)});
    if (r.rows.empty()) no_such_model(name);
    const NamedRow row(r, 0);
    ModelIdentity out;
    out.id = row.int64("model_id");
    const Oid target = static_cast<Oid>(std::stoul(row.text("target")));
    if (pg_call([target] { return get_rel_name(target); }) != nullptr) out.target_oid = target;
    return out;
}

ModelRecord load_model(const std::string &name, bool require_relations) {
    AsCatalogOwner owner;
    require_catalog_version();
    SqlResult r = spi_exec(
        "SELECT model_id, query, query_head, query_tail, alias_in_query, source::oid AS source, "
        "source_alias, source_only, batch_column, batch_type, window_column, lookback::text AS "
        "lookback, target::oid AS target, bounded_recompute, timezone, enabled, owner::oid AS "
        "owner, canonical_query, change_log, planned_snapshot::text AS planned_snapshot, "
        "load_column, start_date::text AS start_date, backfill_limit::text AS backfill_limit, "
        "day_key, reprocess_days, min_rows_to_process, upper_limit::text AS upper_limit, "
        "strategy, event_key, planned_origin, query_tree, "
        "query_origin, dimensions_recorded, on_dimension_change FROM incmodel.models WHERE name = "
        "$1",
        {SqlParam::value(name)});
    if (r.rows.empty()) no_such_model(name);
    const NamedRow row(r, 0);
    ModelRecord m;
    core::ModelSpec &s = m.spec;
    s.id = row.int64("model_id");
    s.name = name;
    m.query = row.text("query");
    s.query_head = row.text("query_head");
    s.query_tail = row.text("query_tail");
    s.alias_in_query = row.boolean("alias_in_query");
    m.source_oid = static_cast<Oid>(std::stoul(row.text("source")));
    s.source_alias = row.text("source_alias");
    s.source_only = row.boolean("source_only");
    s.batch_column = row.text("batch_column");
    s.batch_type = row.text("batch_type");
    s.window_column = row["window_column"];
    m.lookback = row["lookback"];
    if (!m.lookback) s.window_column.reset();
    m.target_oid = static_cast<Oid>(std::stoul(row.text("target")));
    s.bounded_recompute = row.boolean("bounded_recompute") && s.window_column.has_value();
    m.timezone = row.text("timezone");
    m.enabled = row.boolean("enabled");
    m.owner_oid = static_cast<Oid>(std::stoul(row.text("owner")));
    m.canonical_query = row.text("canonical_query");
    m.change_log = row.boolean("change_log");
    m.planned_snapshot = row["planned_snapshot"];
    m.upper_limit = row["upper_limit"];
    m.dimensions_recorded = row.boolean("dimensions_recorded");
    m.on_dimension_change = row.text("on_dimension_change");

    SqlResult cols = spi_exec(
        "SELECT kind, name, type, source_expr FROM incmodel.model_columns WHERE model_id = "
        "$1::int8 "
        "ORDER BY kind, ord",
        {SqlParam::int64(s.id)});
    for (std::size_t i = 0; i < cols.rows.size(); ++i) {
        const NamedRow c(cols, i);
        const std::string kind = c.text("kind");
        if (kind == "output")
            s.outputs.push_back({c.text("name"), c.text("type")});
        else if (kind == "key")
            s.keys.push_back({c.text("name"), c.text("source_expr"), c.text("type")});
        else
            s.unique_columns.push_back(c.text("name"));
    }
    if (row["query_tree"] && row["query_origin"] == std::optional<std::string>(tree_origin()))
        m.query_tree = *row["query_tree"];
    auto exists = [](Oid rel) { return pg_call([rel] { return get_rel_name(rel); }) != nullptr; };
    if (require_relations && exists(m.source_oid) && exists(m.target_oid)) render_from_tree(m);
    m.depends_on = input_models(s.id);
    if (row["load_column"]) {
        core::TimeSpec d;
        d.load_column = row.text("load_column");
        d.load_type = s.batch_type;
        d.start_date = row.text("start_date");
        d.backfill_limit = row.text("backfill_limit");
        d.day_column = row.text("day_key");
        d.reprocess_days = static_cast<int>(row.int64("reprocess_days"));
        d.min_rows_to_process = row.int64("min_rows_to_process");
        for (const auto &k : s.keys)
            if (k.column == d.day_column) {
                d.day_expr = k.source_expr;
                d.day_range = k.day_range;
            }
        d.append = row.text("strategy") == "append";
        if (d.append) {
            d.event_key = row.text("event_key");
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
    if (m.planned_snapshot &&
        row["planned_origin"] != std::optional<std::string>(snapshot_origin(m.source_oid)))
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
    for (std::size_t i = 0; i < r.rows.size(); ++i) names.push_back(NamedRow(r, i).text("name"));
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

void set_planned_snapshot(const ModelRecord &m, const std::string &snapshot) {
    AsCatalogOwner owner;
    const std::string origin = snapshot_origin(m.source_oid);
    spi_exec(
        "UPDATE incmodel.models SET planned_snapshot = $2::pg_snapshot, planned_origin = $3 WHERE "
        "model_id = $1::int8",
        {SqlParam::int64(m.spec.id), SqlParam::value(snapshot), SqlParam::value(origin)});
    if (!m.change_log) return;
    prune_seen_log_rows(m.source_oid, m.spec.batch_column, origin);
}

void set_features_inputs(std::int64_t model_id, const std::vector<FeatureInput> &inputs) {
    AsCatalogOwner owner;
    std::vector<std::string> names, first;
    for (const auto &in : inputs) names.push_back(in.input);
    for (int k : inputs.at(0).feature_keys) first.push_back(std::to_string(k));
    spi_exec(
        "UPDATE incmodel.models SET depends_on = $2::text[], feature_keys = $3::text[]::int[] "
        "WHERE model_id = $1::int8",
        {SqlParam::int64(model_id), SqlParam::text_array(names), SqlParam::text_array(first)});
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::vector<std::string> keys;
        for (int k : inputs[i].feature_keys) keys.push_back(std::to_string(k));
        spi_exec(
            "INSERT INTO incmodel.feature_inputs (model_id, input, ord, feature_keys, "
            "feature_key_exprs) VALUES ($1::int8, $2, $3::int4, $4::text[]::int[], "
            "$5::text[])",
            {SqlParam::int64(model_id), SqlParam::value(inputs[i].input),
             SqlParam::int64(static_cast<std::int64_t>(i) + 1), SqlParam::text_array(keys),
             inputs[i].key_exprs.empty() ? SqlParam::null()
                                         : SqlParam::text_array(inputs[i].key_exprs)});
    }
}

void set_change_log(std::int64_t model_id, bool on) {
    AsCatalogOwner owner;
    spi_exec("UPDATE incmodel.models SET change_log = $2::boolean WHERE model_id = $1::int8",
             {SqlParam::int64(model_id), SqlParam::value(on ? "true" : "false")});
}

void delete_model(std::int64_t model_id) {
    forget_model_debt(model_id);
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.models WHERE model_id = $1::int8", {SqlParam::int64(model_id)});
}

bool model_exists(const std::string &name) {
    AsCatalogOwner owner;
    return spi_exec("SELECT EXISTS (SELECT 1 FROM incmodel.models WHERE name = $1)",
                    {SqlParam::value(name)})
               .scalar() == std::optional<std::string>("t");
}

void set_model_settings(std::int64_t model_id, const ModelSettings &settings) {
    auto text = [](const auto &v, auto render) {
        return v ? SqlParam::value(render(*v)) : SqlParam::null();
    };
    auto boolean = [](bool b) { return std::string(b ? "true" : "false"); };
    auto number = [](double d) { return fmt::format("{}", d); };
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.models SET lookback = CASE WHEN $2::bool THEN $3::interval ELSE lookback "
        "END, enabled = coalesce($4::boolean, enabled), bounded_recompute = coalesce($5::boolean, "
        "bounded_recompute), vacuum_dead_ratio = coalesce($6::float8, vacuum_dead_ratio), "
        "analyze_mod_ratio = coalesce($7::float8, analyze_mod_ratio) WHERE model_id = $1::int8",
        {SqlParam::int64(model_id), SqlParam::value(boolean(settings.lookback.has_value())),
         text(settings.lookback, [](const std::string &v) { return v; }),
         text(settings.enabled, boolean), text(settings.bounded_recompute, boolean),
         text(settings.vacuum_dead_ratio, number), text(settings.analyze_mod_ratio, number)});
}

void record_model_dimensions(std::int64_t model_id, const std::vector<Oid> &relids) {
    std::vector<std::string> oids;
    for (Oid r : relids) oids.push_back(std::to_string(r));
    AsCatalogOwner owner;
    spi_exec("DELETE FROM incmodel.model_dimensions WHERE model_id = $1::pg_catalog.int8",
             {SqlParam::int64(model_id)});
    spi_exec(
        "INSERT INTO incmodel.model_dimensions (model_id, relation) SELECT $1::pg_catalog.int8, "
        "r::pg_catalog.oid::pg_catalog.regclass FROM pg_catalog.unnest($2::pg_catalog.text[]) r",
        {SqlParam::int64(model_id), SqlParam::text_array(oids)});
    spi_exec(
        "UPDATE incmodel.models SET dimensions_recorded = true WHERE model_id = "
        "$1::pg_catalog.int8",
        {SqlParam::int64(model_id)});
}

std::vector<DimensionWatcher> models_watching(const std::vector<Oid> &relids) {
    // By index, without parsing and planning a query (a writer's commit asks); the query below
    // only if the catalog's indexes are not the expected ones.
    if (std::optional<std::vector<DimensionWatcher>> scanned = scan_models_watching(relids))
        return std::move(*scanned);
    std::vector<std::string> oids;
    for (Oid r : relids) oids.push_back(std::to_string(r));
    AsCatalogOwner owner;
    SqlResult r = spi_exec(
        "SELECT DISTINCT m.model_id, m.name, m.load_column IS NOT NULL AS time_based, "
        "m.source::pg_catalog.oid::pg_catalog.text AS source, m.load_column, "
        "d.relation::pg_catalog.oid::pg_catalog.text AS relation, m.on_dimension_change, "
        "m.depends_on IS NOT NULL AS features, m.target::pg_catalog.oid::pg_catalog.text AS "
        "target, d.watch, d.noted_column FROM incmodel.model_dimensions d JOIN "
        "incmodel.models m USING (model_id) WHERE d.relation::pg_catalog.oid "
        "OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]::pg_catalog.oid[]) AND "
        "m.on_dimension_change OPERATOR(pg_catalog.<>) 'ignore' ORDER BY m.name",
        {SqlParam::text_array(oids)});
    std::vector<DimensionWatcher> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        DimensionWatcher w;
        w.model_id = row.int64("model_id");
        w.name = row.text("name");
        w.relation = static_cast<Oid>(std::stoul(row.text("relation")));
        w.on_dimension_change = row.text("on_dimension_change");
        w.features = row.boolean("features");
        w.time_based = row.boolean("time_based");
        w.source = static_cast<Oid>(std::stoul(row.text("source")));
        w.load_column = row.text("load_column");
        w.target = static_cast<Oid>(std::stoul(row.text("target")));
        w.watch = row.text("watch");
        if (row["noted_column"])
            w.noted_column = static_cast<AttrNumber>(std::stoi(row.text("noted_column")));
        out.push_back(std::move(w));
    }
    return out;
}

void redo_dimension_watch(std::int64_t model_id) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.models SET dimensions_recorded = false WHERE model_id = "
        "$1::pg_catalog.int8 AND dimensions_recorded",
        {SqlParam::int64(model_id)});
}

void record_dimension_watch(std::int64_t model_id, Oid relid, const std::string &watch,
                            AttrNumber noted_column) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.model_dimensions SET watch = $3, noted_column = $4::pg_catalog.int2 "
        "WHERE model_id = $1::pg_catalog.int8 AND relation::pg_catalog.oid "
        "OPERATOR(pg_catalog.=) $2::pg_catalog.oid",
        {SqlParam::int64(model_id), SqlParam::int64(relid), SqlParam::value(watch),
         noted_column == InvalidAttrNumber ? SqlParam::null() : SqlParam::int64(noted_column)});
}

void record_dimension_policy(std::int64_t model_id, const std::string &policy) {
    AsCatalogOwner owner;
    spi_exec(
        "UPDATE incmodel.models SET on_dimension_change = $2 WHERE model_id = "
        "$1::pg_catalog.int8",
        {SqlParam::int64(model_id), SqlParam::value(policy)});
}

bool dimension_watched(Oid relid) {
    AsCatalogOwner owner;
    return spi_exec(
               "SELECT EXISTS (SELECT 1 FROM incmodel.model_dimensions WHERE "
               "relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid)",
               {SqlParam::int64(relid)})
               .scalar() == std::optional<std::string>("t");
}

}  // namespace incmodel::pg
