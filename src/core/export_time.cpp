// What the daily, append and features packages share (export_time.hpp): the keys, the restricted
// source, the commit of recomputed keys and the run record (KindPackage); the range manifest and
// the run's load range (TimePackage); and the choice of a package by model kind.
#include "core/export_time.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/redshift_names.hpp"
#include "core/redshift_translate.hpp"

namespace incmodel::core {

namespace {
constexpr const char *kKeysAlias = "_incmodel_k";

// The text without surrounding white space (query_head / query_tail carry line breaks).
std::string trimmed(const std::string &s) {
    std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
}  // namespace

// The base's Redshift rewriting of the query, extended to the filter the key steps add.
KindPackage::KindPackage(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : PackageRenderer(std::move(spec), std::move(options), std::move(quote)) {
    // The source filter is printed by PostgreSQL, as the query is.
    if (redshift())
        spec_.source_filter = translate_for_redshift(quote_redshift_reserved(spec_.source_filter));
}

// A time-based package needs what the adapter adds for it (ExportOptions' time fields).
TimePackage::TimePackage(ModelSpec spec, ExportOptions options, IdentQuoter quote)
    : KindPackage(std::move(spec), std::move(options), std::move(quote)) {
    if (!spec_.time || options_.start_date.empty() || !options_.backfill_limit)
        throw ExportError(ExportError::Kind::InvalidValue,
                          "incmodel: a time-based package needs the model's start_date and "
                          "backfill_limit");
    if (redshift()) spec_.time->day_expr = quote_redshift_reserved(spec_.time->day_expr);
}

// The type of limits and stamps: Redshift's UTC TIMESTAMP, PostgreSQL's timestamptz.
std::string TimePackage::ts_type() const {
    return redshift() ? "TIMESTAMP" : "timestamptz";
}

// start_date as a literal of that type (ranges start just before it).
std::string TimePackage::start() const {
    return sql_literal(options_.start_date, options_.dialect) + "::" + ts_type();
}

// The load column of a source row, over the query's alias of the source.
std::string TimePackage::load() const {
    return q(spec_.source_alias) + "." + q(spec_.time->load_column);
}

// PostgreSQL: a timestamptz limit cast to the load column's type under the pinned TimeZone, as
// the extension compares ($1::timestamptz::type). Redshift: limits are UTC timestamps.
std::string TimePackage::as_load(const std::string &expr) const {
    return redshift() ? expr : expr + "::" + spec_.time->load_type;
}

// The row's load after lower (lower_op ">" or ">=") and at most v_upper.
std::string TimePackage::in_range(const char *lower_op, const std::string &lower) const {
    return fmt::format("{l} {op} {lo} AND {l} <= {hi}", fmt::arg("l", load()),
                       fmt::arg("op", lower_op), fmt::arg("lo", as_load(lower)),
                       fmt::arg("hi", as_load("v_upper")));
}

// The query's own filters on the source, so keys come from rows the query reads (as the
// extension's key steps).
std::string KindPackage::and_filter() const {
    return trimmed(spec_.source_filter).empty() ? "" : " AND (" + spec_.source_filter + ")";
}

// The keys scratch's columns.
std::string KindPackage::key_columns() const {
    return join_map(spec_.keys, ", ",
                    [i = 0](const KeyPart &) mutable { return fmt::format("k{}", ++i); });
}

// The key parts computed from a source row.
std::string KindPackage::key_exprs() const {
    return join_map(spec_.keys, ", ", [](const KeyPart &k) { return k.source_expr; });
}

// A daily model's ledger of event days.
std::string TimePackage::ledger() const {
    return q(kExportSchema) + "." + q("ledger_" + spec_.name);
}

// The range manifest: one row per run that moved the limit, (lower_limit, upper_limit], with
// the reprocess_days it ran under (the inclusion rule reads it back) and its counts.
std::vector<std::string> TimePackage::state_tables() const {
    const bool rs = redshift();
    std::vector<std::string> out = {fmt::format(
        "CREATE TABLE IF NOT EXISTS {m} (lower_limit {ts} NOT NULL, upper_limit {ts} NOT "
        "NULL{pk}, reprocess_days integer, rows_processed bigint, rows_late bigint, "
        "days_reprocessed bigint, recorded_at {ts}){dist}",
        fmt::arg("m", manifest()), fmt::arg("ts", ts_type()),
        fmt::arg("pk", rs ? "" : " PRIMARY KEY"),
        fmt::arg("dist", rs ? " DISTSTYLE ALL SORTKEY (upper_limit)" : ""))};
    if (options_.log_touched_keys) out.push_back(touched_ddl());
    return out;
}

// What `incmodel maintain` vacuums and analyzes for an append model.
std::vector<QualifiedName> TimePackage::maintained_relations() const {
    return {spec_.target,
            {kExportSchema, "manifest_" + spec_.name},
            {kExportScratchSchema, spec_.name + "_keys"},
            {kExportScratchSchema, spec_.name + "_rows"},
            {kExportSchema, "run_log"}};
}

// The variables every time-based procedure uses (Redshift counts them against its limit); a
// backfill adds v_from and v_to.
std::string TimePackage::declare_common() const {
    const bool rs = redshift();
    std::string s = "DECLARE\n";
    for (const char *v : {"v_started", "v_lower", "v_upper", "v_limit", "v_inflight"})
        s += fmt::format("    {} {};\n", v, ts_type());
    // RAISE's arguments must be variables on Redshift: the model's name and the outcome are.
    s += fmt::format("    v_model {} := {};\n", rs ? "VARCHAR(256)" : "text",
                     sql_literal(spec_.name, options_.dialect));
    s += fmt::format("    v_outcome {} := 'noop';\n", rs ? "VARCHAR(16)" : "text");
    for (const char *v :
         {"v_batches", "v_events", "v_keys", "v_null_keys", "v_deleted", "v_n", "v_inserted"})
        s += fmt::format("    {} BIGINT := 0;\n", v);
    return s;
}

// The run's load range, as the extension's next_range(): from the last upper limit (or just
// before start_date), at most backfill_limit further, and before the start of the oldest other
// transaction holding or waiting for a write lock on the source (a loader in flight stamps its
// rows after it started), never past now; read after the model's lock, before the source.
std::string TimePackage::lock_and_range() const {
    const bool rs = redshift();
    const Lookback &bf = *options_.backfill_limit;
    std::string s;
    s += "    v_started := " + now_expr() + ";\n";
    if (rs)  // refreshes of the model queue on its manifest, which no dashboard reads
        s += "    LOCK " + manifest() + ";\n";
    else
        s += fmt::format("    PERFORM pg_advisory_xact_lock({}, hashtext(v_model));\n",
                         kExportLockClass);
    s += "    SELECT INTO v_lower MAX(upper_limit) FROM " + manifest() + ";\n";
    s += "    IF v_lower IS NULL THEN\n";
    s += "        v_lower := " +
         (rs ? "DATEADD(microsecond, -1, " + start() + ")"
             : start() + " - '1 microsecond'::interval") +
         ";\n";
    s += "    END IF;\n";
    if (rs) {
        // SVV_TRANSACTIONS: a regular user sees only its own sessions (docs/REDSHIFT.md).
        s += "    SELECT INTO v_inflight MIN(t.txn_start) FROM svv_transactions t JOIN pg_class c "
             "ON c.oid = t.relation JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " +
             redshift_relation_match(sql_literal(spec_.source.schema, Dialect::Redshift),
                                     sql_literal(spec_.source.name, Dialect::Redshift)) +
             " AND t.lock_mode IN ('ShareRowExclusiveLock', 'ExclusiveLock', "
             "'AccessExclusiveLock') AND t.pid <> PG_BACKEND_PID();\n";
        s += "    v_limit := DATEADD(microsecond, -1, LEAST(GETDATE(), COALESCE(v_inflight, "
             "GETDATE())));\n";
        std::string ahead = "v_lower";
        if (bf.months) ahead = fmt::format("DATEADD(month, {}, {})", bf.months, ahead);
        if (bf.days) ahead = fmt::format("DATEADD(day, {}, {})", bf.days, ahead);
        if (bf.seconds) ahead = fmt::format("DATEADD(second, {}, {})", bf.seconds, ahead);
        s += "    v_upper := GREATEST(v_lower, LEAST(" + ahead + ", v_limit));\n";
    } else {
        const std::string src = sql_literal(qualified(quote_, spec_.source), Dialect::Postgres);
        s += "    PERFORM pg_stat_clear_snapshot();\n";
        s += fmt::format(
            "    SELECT INTO v_inflight min(a.xact_start) FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'relation' AND (l.relation = {src}::regclass OR "
            "l.relation IN (SELECT relid FROM pg_partition_tree({src}::regclass) UNION ALL SELECT "
            "relid FROM pg_partition_ancestors({src}::regclass))) AND l.database = (SELECT oid "
            "FROM pg_database WHERE datname = current_database()) AND l.mode IN "
            "('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
            "'AccessExclusiveLock') AND l.pid <> pg_backend_pid();\n",
            fmt::arg("src", src));
        s += "    v_limit := least(now(), v_inflight) - '1 microsecond'::interval;\n";
        s += "    v_upper := greatest(v_lower, least(v_lower + " +
             sql_literal(bf.text, Dialect::Postgres) + "::interval, v_limit));\n";
    }
    return s;
}

// A limit's event day: the date of a UTC timestamp (Redshift), or of a timestamptz under the
// TimeZone the procedure pins to the model's (as the extension's backfill days).
std::string TimePackage::as_date(const std::string &expr) const {
    return "(" + expr + ")::" + (redshift() ? "DATE" : "date");
}

// The backfill's plan, as the extension's: the model's lock, range_start < range_end, and the
// last upper limit as both limits (so no range is recorded and only rows loaded up to it count).
std::string TimePackage::backfill_range() const {
    std::string s;
    s += "    v_started := " + now_expr() + ";\n";
    if (redshift())
        s += "    LOCK " + manifest() + ";\n";
    else
        s += fmt::format("    PERFORM pg_advisory_xact_lock({}, hashtext(v_model));\n",
                         kExportLockClass);
    s += "    v_from := range_start;\n";
    s += "    v_to := range_end;\n";
    s += "    IF v_from IS NULL OR v_to IS NULL OR v_from >= v_to THEN\n";
    s += "        RAISE EXCEPTION 'incmodel: backfill range is empty: range_start must be before "
         "range_end';\n";
    s += "    END IF;\n";
    s += "    SELECT INTO v_lower MAX(upper_limit) FROM " + manifest() + ";\n";
    s += "    IF v_lower IS NULL THEN\n";
    s += "        RAISE EXCEPTION 'incmodel: model \"%\" has not run yet: refresh it first (a "
         "backfill rebuilds up to the upper limit)', v_model;\n";
    s += "    END IF;\n";
    s += "    v_upper := v_lower;\n";
    return s;
}

// incmodel."backfill_<model>", beside the refresh procedure.
std::string TimePackage::backfill_name() const {
    return q(kExportSchema) + "." + q("backfill_" + spec_.name);
}

// The backfill procedure, checked and wrapped as procedure() wraps the refresh (the same pinned
// settings on PostgreSQL, the same checks on Redshift: two parameters, two more variables).
std::string TimePackage::backfill_procedure() const {
    const std::string body = backfill_body();
    const std::string tag = dollar_quote_tag(body);
    const std::string params =
        fmt::format("range_start {t}, range_end {t}", fmt::arg("t", ts_type()));
    if (redshift()) {
        check_redshift_procedure(body, variable_count() + 2, 2);
        return "CREATE OR REPLACE PROCEDURE " + backfill_name() + "(" + params + ")\nAS " + tag +
               "\n" + body + tag + " LANGUAGE plpgsql";
    }
    return fmt::format(
        "CREATE OR REPLACE PROCEDURE {}({})\nLANGUAGE plpgsql\nSET search_path = pg_catalog, "
        "pg_temp\nSET \"TimeZone\" = {}\nSET \"DateStyle\" = 'ISO'\nAS {}\n{}{}",
        backfill_name(), params, sql_literal(options_.timezone, Dialect::Postgres), tag, body, tag);
}

// The package format is ddl..., procedure, dispatcher, post_commit, maintenance: the backfill
// procedure is deployed as the last ddl statement, before the refresh procedure.
std::vector<PackagePart> TimePackage::render_with_backfill() const {
    std::vector<PackagePart> parts = render();
    auto at = std::find_if(parts.begin(), parts.end(),
                           [](const PackagePart &p) { return p.part == "procedure"; });
    parts.insert(at, PackagePart{0, "ddl", backfill_procedure()});
    int step = 0;
    for (PackagePart &p : parts) p.step = ++step;
    return parts;
}

// Step 0: the run's scratch emptied.
std::string KindPackage::delete_scratch(const std::vector<std::string> &suffixes) const {
    std::string s;
    for (const std::string &t : suffixes)  // DELETE on Redshift: TRUNCATE would commit there
        s += fmt::format("    {} {};\n", redshift() ? "DELETE FROM" : "TRUNCATE",
                         scratch(t.c_str()));
    return s;
}

// The non-NULL keys match by equality; a second branch reads only rows with a NULL key part,
// used when some touched key has one (as the batch package's restricted_query()).
std::string KindPackage::recompute(const std::string &extra_joins, const std::string &filter,
                                   const std::string &wrap_head,
                                   const std::string &wrap_tail) const {
    std::vector<std::string> eq, src_null, key_null, null_match;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i) {
        const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
        const std::string &e = spec_.keys[i].source_expr;
        eq.push_back(fmt::format("{} = {}", k, e));
        src_null.push_back(e + " IS NULL");
        key_null.push_back(k + " IS NULL");
        null_match.push_back(fmt::format("({k} = {e} OR ({k} IS NULL AND {e} IS NULL))",
                                         fmt::arg("k", k), fmt::arg("e", e)));
    }
    const std::string from = source_as_alias() + extra_joins;
    const std::string rest = and_filter() + filter;
    const std::string a = q(spec_.source_alias);
    const std::string plain = fmt::format(
        "SELECT {a}.* FROM {from} WHERE EXISTS (SELECT 1 FROM {keys} AS {k} WHERE {eq}){rest}",
        fmt::arg("a", a), fmt::arg("from", from), fmt::arg("keys", scratch("keys")),
        fmt::arg("k", kKeysAlias), fmt::arg("eq", join(eq, " AND ")), fmt::arg("rest", rest));
    const std::string nulls = fmt::format(
        " UNION ALL SELECT {a}.* FROM {from} WHERE ({src_null}) AND EXISTS (SELECT 1 FROM {keys} "
        "AS {k} WHERE ({key_null}) AND {match}){rest}",
        fmt::arg("a", a), fmt::arg("from", from), fmt::arg("src_null", join(src_null, " OR ")),
        fmt::arg("keys", scratch("keys")), fmt::arg("k", kKeysAlias),
        fmt::arg("key_null", join(key_null, " OR ")), fmt::arg("match", join(null_match, " AND ")),
        fmt::arg("rest", rest));
    auto splice = [&](const std::string &restricted) {
        std::string out =
            trimmed(spec_.query_head) + " (" + wrap_head + restricted + wrap_tail + ")";
        if (!spec_.alias_in_query) out += " AS " + a;
        return out + " " + trimmed(spec_.query_tail);
    };
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    return fmt::format(
        "        IF v_null_keys > 0 THEN\n"
        "            INSERT INTO {rows} ({cols})\n            {with_nulls};\n"
        "        ELSE\n"
        "            INSERT INTO {rows} ({cols})\n            {plain};\n"
        "        END IF;\n"
        "        GET DIAGNOSTICS v_inserted := ROW_COUNT;\n",
        fmt::arg("rows", scratch("rows")), fmt::arg("cols", cols),
        fmt::arg("with_nulls", splice(plain + nulls)), fmt::arg("plain", splice(plain)));
}

// The commit of the recomputed keys, as the batch package's: the target locked only now
// (Redshift), the touched keys deleted (NULL parts matched with IS NULL), the rows inserted.
std::string KindPackage::replace_keys() const {
    std::vector<std::string> kn, tnull, tmatch, teq;
    for (std::size_t i = 0; i < spec_.keys.size(); ++i) {
        const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
        const std::string tc = q(spec_.target.name) + "." + q(spec_.keys[i].column);
        kn.push_back(k + " IS NULL");
        tnull.push_back(tc + " IS NULL");
        teq.push_back(fmt::format("{} = {}", tc, k));
        tmatch.push_back(fmt::format("({k} = {t} OR ({k} IS NULL AND {t} IS NULL))",
                                     fmt::arg("k", k), fmt::arg("t", tc)));
    }
    std::string s;
    if (redshift()) s += "        LOCK " + target() + ";\n";
    s += fmt::format("        DELETE FROM {t} USING {keys} AS {k} WHERE {eq};\n",
                     fmt::arg("t", target()), fmt::arg("keys", scratch("keys")),
                     fmt::arg("k", kKeysAlias), fmt::arg("eq", join(teq, " AND ")));
    s += "        GET DIAGNOSTICS v_deleted := ROW_COUNT;\n";
    s += "        IF v_null_keys > 0 THEN\n";
    s += fmt::format(
        "            DELETE FROM {t} WHERE ({tnull}) AND EXISTS (SELECT 1 FROM {keys} AS {k} "
        "WHERE ({kn}) AND {match});\n",
        fmt::arg("t", target()), fmt::arg("tnull", join(tnull, " OR ")),
        fmt::arg("keys", scratch("keys")), fmt::arg("k", kKeysAlias),
        fmt::arg("kn", join(kn, " OR ")), fmt::arg("match", join(tmatch, " AND ")));
    s += "            GET DIAGNOSTICS v_n := ROW_COUNT;\n";
    s += "            v_deleted := v_deleted + v_n;\n";
    s += "        END IF;\n";
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    s += fmt::format("        INSERT INTO {} ({}) SELECT {} FROM {};\n", target(), cols, cols,
                     scratch("rows"));
    s += log_touched_keys("        ");
    return s;
}

// The run recorded in incmodel.run_log and reported to the command (outcome in v_outcome).
std::string KindPackage::finish() const {
    std::string f;
    f += fmt::format(
        "    INSERT INTO {s}.run_log (model, started_at, finished_at, outcome, batches, events, "
        "keys, null_keys, rows_deleted, rows_inserted, window_start) VALUES (v_model, v_started, "
        "{now}, v_outcome, v_batches, v_events, v_keys, v_null_keys, v_deleted, v_inserted, "
        "NULL);\n",
        fmt::arg("s", q(kExportSchema)), fmt::arg("now", now_expr()));
    f += "    RAISE INFO 'incmodel-run model=% outcome=% batches=% events=% keys=% deleted=% "
         "inserted=%', v_model, v_outcome, v_batches, v_events, v_keys, v_deleted, "
         "v_inserted;\n";
    return f;
}

// The package by model kind: features (inputs given), append, daily, else batch.
std::vector<PackagePart> render_package(const ModelSpec &spec, const ExportOptions &options,
                                        const IdentQuoter &quote) {
    if (!options.inputs.empty()) return FeaturesPackage(spec, options, quote).render();
    if (!spec.time) return PackageRenderer(spec, options, quote).render();
    if (spec.time->append) return AppendPackage(spec, options, quote).render_with_backfill();
    return DailyPackage(spec, options, quote).render_with_backfill();
}

}  // namespace incmodel::core
