#include "core/refresh_planner.hpp"

#include <fmt/format.h>

namespace incmodel::core {

namespace {
// Aliases incmodel adds inside generated SQL; query analysis rejects user aliases with this prefix.
constexpr const char *kKeysAlias = "_incmodel_k";
constexpr const char *kTargetAlias = "_incmodel_t";
constexpr const char *kWindowAlias = "_incmodel_w";
constexpr const char *kManifest = "incmodel.manifest";
constexpr const char *kRetentionExpiring = "incmodel.retention_expiring";
constexpr const char *kKeyQueue = "incmodel.key_queue";
}  // namespace

// Names the scratch tables after the model id so renames of the model never move them.
RefreshPlanner::RefreshPlanner(ModelSpec spec, IdentQuoter quote)
    : spec_(std::move(spec)), quote_(std::move(quote)) {
    const std::string base = fmt::format("m{}_", spec_.id);
    scratch_ = {{kScratchSchema, base + "batches"},
                {kScratchSchema, base + "keys"},
                {kScratchSchema, base + "rows"},
                {kScratchSchema, base + "days"}};
}

// [ONLY] schema.table, as the user's query named it.
std::string RefreshPlanner::source_ref() const {
    return (spec_.source_only ? "ONLY " : "") + qualified(quote_, spec_.source);
}

// The source under the alias the key expressions were deparsed against.
std::string RefreshPlanner::source_as_alias() const {
    return source_ref() + " AS " + q(spec_.source_alias);
}

// k1, k2, ... optionally prefixed with a table alias.
std::string RefreshPlanner::key_columns(const char *prefix) const {
    std::vector<std::string> cols;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        cols.push_back(fmt::format("{}k{}", prefix ? fmt::format("{}.", prefix) : "", i + 1));
    return join(cols, ", ");
}

// The source-side expressions of the key, in key order.
std::string RefreshPlanner::key_exprs() const {
    return join_map(spec_.keys, ", ", [](const KeyPart &k) { return k.source_expr; });
}

// lhs = rhs under key part i's own equality, named by schema (a citext or ltree key is not
// compared as text, and its operator is not on the pinned search_path).
std::string RefreshPlanner::key_equal(size_t i, const std::string &lhs,
                                      const std::string &rhs) const {
    const auto &eq = spec_.keys[i].equality;
    if (!eq) return fmt::format("{} = ({})", lhs, rhs);
    return fmt::format("{} OPERATOR({}.{}) ({})", lhs, q(eq->schema), eq->name, rhs);
}

// True when the values exprs (one per key part) are a touched key without a NULL part. EXISTS
// with one equality per part becomes a semi-join as IN would, with the key's operators.
std::string RefreshPlanner::in_keys(const std::vector<std::string> &exprs) const {
    std::vector<std::string> match;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        match.push_back(key_equal(i, fmt::format("{}.k{}", kKeysAlias, i + 1), exprs[i]));
    return fmt::format("EXISTS (SELECT 1 FROM {} AS {} WHERE {})", qualified(quote_, scratch_.keys),
                       kKeysAlias, join(match, " AND "));
}

// True when exprs have a NULL part and are a touched key, NULL matching NULL (IS NOT DISTINCT
// FROM with the key's own equality).
std::string RefreshPlanner::in_null_keys(const std::vector<std::string> &exprs) const {
    std::vector<std::string> expr_null, key_null, match;
    for (size_t i = 0; i < spec_.keys.size(); ++i) {
        const std::string k = fmt::format("{}.k{}", kKeysAlias, i + 1);
        expr_null.push_back(fmt::format("({}) IS NULL", exprs[i]));
        key_null.push_back(k + " IS NULL");
        match.push_back(fmt::format("({} IS NULL AND ({}) IS NULL OR {})", k, exprs[i],
                                    key_equal(i, k, exprs[i])));
    }
    return fmt::format("({}) AND EXISTS (SELECT 1 FROM {} AS {} WHERE ({}) AND {})",
                       join(expr_null, " OR "), qualified(quote_, scratch_.keys), kKeysAlias,
                       join(key_null, " OR "), join(match, " AND "));
}

// The query's own WHERE parts on the source alone: key expressions are evaluated only on the
// rows they keep (a key computed from a payload that only some events carry). Not for an append
// model: its first duplicate is chosen among all of an event's rows before the query filters,
// and its key is a plain column.
std::string RefreshPlanner::and_source_filter() const {
    if (spec_.source_filter.empty() || (spec_.time && spec_.time->append)) return "";
    return " AND (" + spec_.source_filter + ")";
}

// The lookback filter on the window column, bound to parameter $param; empty without a window.
std::string RefreshPlanner::window_filter(int param) const {
    if (!spec_.window_column) return "";
    return fmt::format(" AND {}.{} >= ${}::timestamptz", q(spec_.source_alias),
                       q(*spec_.window_column), param);
}

// The user's query with its source relation replaced by a restricted subquery.
std::string RefreshPlanner::with_restricted_source(const std::string &restricted_select) const {
    std::string out = spec_.query_head + "(" + restricted_select + ")";
    if (!spec_.alias_in_query) out += " AS " + q(spec_.source_alias);
    out += " " + spec_.query_tail;
    return out;
}

// CREATE TABLE for a new target, with the unique index on the model's key.
std::vector<std::string> RefreshPlanner::create_target() const {
    std::string cols = join_map(spec_.outputs, ", ",
                                [this](const OutputColumn &c) { return q(c.name) + " " + c.type; });
    return {fmt::format("CREATE TABLE {} ({})", qualified(quote_, spec_.target), cols),
            create_target_key_index()};
}

// One row per group: NULL keys are one group each, as GROUP BY treats them.
std::string RefreshPlanner::create_target_key_index() const {
    return fmt::format(
        "CREATE UNIQUE INDEX ON {} ({}) NULLS NOT DISTINCT", qualified(quote_, spec_.target),
        join_map(spec_.unique_columns, ", ", [this](const std::string &c) { return q(c); }));
}

// UNLOGGED scratch tables: fast to fill, truncated at the start of every run.
std::vector<std::string> RefreshPlanner::create_scratch() const {
    std::vector<std::string> keys;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        keys.push_back(fmt::format("k{} {}", i + 1, spec_.keys[i].type));
    std::string rows = join_map(spec_.outputs, ", ",
                                [this](const OutputColumn &c) { return q(c.name) + " " + c.type; });
    std::vector<std::string> out = {
        fmt::format("CREATE UNLOGGED TABLE {} (batch_value text, event_count bigint NOT NULL, "
                    "recorded_count bigint)",
                    qualified(quote_, scratch_.batches)),
        fmt::format("CREATE UNLOGGED TABLE {} ({})", qualified(quote_, scratch_.keys),
                    join(keys, ", ")),
        fmt::format("CREATE UNLOGGED TABLE {} ({})", qualified(quote_, scratch_.rows), rows),
    };
    if (spec_.time) out.push_back(create_days_scratch());
    return out;
}

std::vector<std::string> RefreshPlanner::drop_scratch() const {
    return {fmt::format("DROP TABLE IF EXISTS {}, {}, {}{}", qualified(quote_, scratch_.batches),
                        qualified(quote_, scratch_.keys), qualified(quote_, scratch_.rows),
                        spec_.time ? ", " + qualified(quote_, scratch_.days) : "")};
}

// Step 0: a rerun starts clean; a failed run's scratch stays until then for inspection.
std::string RefreshPlanner::truncate_scratch() const {
    return fmt::format("TRUNCATE {}, {}, {}{}", qualified(quote_, scratch_.batches),
                       qualified(quote_, scratch_.keys), qualified(quote_, scratch_.rows),
                       spec_.time ? ", " + qualified(quote_, scratch_.days) : "");
}

// Step 1, counting: every batch of the source with its event count. The NULL batch (events
// whose batch value is NULL) is a batch of its own. With a window, only the batches with events
// in the window are counted, whole, so a batch that partly left the window never looks shrunk;
// the NULL batch is in the window when one of its events is.
std::string RefreshPlanner::source_batch_counts() const {
    const std::string a = q(spec_.source_alias);
    const std::string b = q(spec_.batch_column);
    if (!spec_.window_column)
        return fmt::format(
            "SELECT {a}.{b}::text AS batch_value, count(*) AS event_count FROM {src} GROUP BY "
            "{a}.{b}",
            fmt::arg("a", a), fmt::arg("b", b), fmt::arg("src", source_as_alias()));
    return fmt::format(
        "SELECT {a}.{b}::text AS batch_value, count(*) AS event_count FROM {src} WHERE {a}.{b} "
        "IN (SELECT {w}.{b} FROM {src_ref} AS {w} WHERE {w}.{wc} >= $2::timestamptz) GROUP BY "
        "{a}.{b} UNION ALL SELECT NULL::text, count(*) FROM {src} WHERE {a}.{b} IS NULL HAVING "
        "bool_or({a}.{wc} >= $2::timestamptz)",
        fmt::arg("a", a), fmt::arg("b", b), fmt::arg("w", kWindowAlias),
        fmt::arg("src", source_as_alias()), fmt::arg("src_ref", source_ref()),
        fmt::arg("wc", q(*spec_.window_column)));
}

// A batch retention is expiring (marked before its first DELETE, dropped when the pass has
// deleted it and its manifest rows): neither new nor shrunk to a refresh, whose plan leaves it
// out. The NULL batch is never expiring. value is the SQL of the batch value compared.
std::string RefreshPlanner::not_expiring(const std::string &value) const {
    return fmt::format(
        "NOT EXISTS (SELECT 1 FROM {expiring} x WHERE x.model_id = $1::int8 AND x.batch_value = "
        "{value})",
        fmt::arg("expiring", kRetentionExpiring), fmt::arg("value", value));
}

// Counted batches (the relation or CTE named counts) beside their manifest counts, expiring
// batches left out. The NULL batch's manifest row is joined on its own, so the other batches
// keep an equality join that can use the manifest's index.
std::string RefreshPlanner::with_recorded_counts(const std::string &counts) const {
    return fmt::format(
        "SELECT c.batch_value, c.event_count, coalesce(m.event_count, n.event_count) AS "
        "recorded_count FROM {counts} c LEFT JOIN {manifest} m ON m.model_id = $1::int8 AND "
        "m.batch_value = c.batch_value LEFT JOIN {manifest} n ON c.batch_value IS NULL AND "
        "n.model_id = $1::int8 AND n.batch_value IS NULL WHERE {not_expiring}",
        fmt::arg("counts", counts), fmt::arg("manifest", kManifest),
        fmt::arg("not_expiring", not_expiring("c.batch_value")));
}

// Manifest batches no longer in the source (rows deleted, expiring ones aside), with event
// count 0. Without a window every batch was counted (CTE c); with one, the source itself is
// probed for each.
std::string RefreshPlanner::vanished_batches() const {
    std::string value_gone, null_gone;
    if (!spec_.window_column) {
        value_gone = "SELECT 1 FROM c WHERE c.batch_value = m.batch_value";
        null_gone = "SELECT 1 FROM c WHERE c.batch_value IS NULL";
    } else {
        const std::string a = q(spec_.source_alias);
        const std::string b = q(spec_.batch_column);
        value_gone = fmt::format("SELECT 1 FROM {src} WHERE {a}.{b} = m.batch_value::{t}",
                                 fmt::arg("src", source_as_alias()), fmt::arg("a", a),
                                 fmt::arg("b", b), fmt::arg("t", spec_.batch_type));
        null_gone =
            fmt::format("SELECT 1 FROM {src} WHERE {a}.{b} IS NULL",
                        fmt::arg("src", source_as_alias()), fmt::arg("a", a), fmt::arg("b", b));
    }
    return fmt::format(
        "SELECT m.batch_value, 0::int8, m.event_count FROM {manifest} m WHERE m.model_id = "
        "$1::int8 AND m.batch_value IS NOT NULL AND {not_expiring} AND NOT EXISTS ({value_gone}) "
        "UNION ALL SELECT "
        "NULL::text, 0::int8, m.event_count FROM {manifest} m WHERE m.model_id = $1::int8 AND "
        "m.batch_value IS NULL AND NOT EXISTS ({null_gone})",
        fmt::arg("manifest", kManifest), fmt::arg("value_gone", value_gone),
        fmt::arg("null_gone", null_gone), fmt::arg("not_expiring", not_expiring("m.batch_value")));
}

// Batches (within the window) that the manifest lacks or that grew: what a refresh processes.
std::string RefreshPlanner::pending_batches() const {
    return fmt::format(
        "SELECT p.batch_value, p.event_count, p.recorded_count FROM ({}) p WHERE "
        "p.recorded_count IS NULL OR p.recorded_count < p.event_count",
        with_recorded_counts("(" + source_batch_counts() + ")"));
}

// Every batch whose count differs from the manifest's: new, grown, shrunk or vanished. A shrunk
// or vanished one (recorded_count > event_count) lost rows, whose keys the remaining events
// cannot name: the refresh rebuilds.
std::string RefreshPlanner::changed_batches() const {
    return fmt::format(
        "WITH c AS ({counts}) SELECT p.batch_value, p.event_count, p.recorded_count FROM "
        "({joined}) p WHERE p.recorded_count IS DISTINCT FROM p.event_count UNION ALL {vanished}",
        fmt::arg("counts", source_batch_counts()), fmt::arg("joined", with_recorded_counts("c")),
        fmt::arg("vanished", vanished_batches()));
}

std::string RefreshPlanner::find_batches() const {
    return fmt::format("INSERT INTO {} (batch_value, event_count, recorded_count) {}",
                       qualified(quote_, scratch_.batches), changed_batches());
}

// The batch values of the change log's ranges, compared under the batch column's collation (the
// one the trigger ordered them by), cast to the column's type.
std::string RefreshPlanner::range_bound(const char *column) const {
    return fmt::format("x.{}::{}{}", column, spec_.batch_type, batch_collate());
}

// " COLLATE ..." of the batch column, or nothing: every comparison of batch values uses it.
std::string RefreshPlanner::batch_collate() const {
    return spec_.batch_collation ? " COLLATE " + qualified(quote_, *spec_.batch_collation) : "";
}

// Only the batches in the change log's ranges are counted: one index range scan per merged
// range (LATERAL, so the plan cannot be anything else), whatever the size of the history; the
// NULL batch is counted when $4 says the log saw NULL batch values.
//
// The merge uses the batch type's ordering only (uuid, bytea and others have no min/max): every
// bound gets its rank in that order (dense_rank, under the column's collation), overlapping
// ranges are merged on the ranks (bigint), and each merged range takes back the values of its
// bound ranks.
std::string RefreshPlanner::ranged_batch_counts() const {
    const std::string a = q(spec_.source_alias);
    const std::string b = q(spec_.batch_column);
    return fmt::format(
        "WITH r AS (SELECT row_number() OVER () AS id, lo, hi FROM (SELECT DISTINCT {lo} AS lo, "
        "{hi} AS hi FROM unnest($2::text[], $3::text[]) AS x(lo, hi)) u), "
        "b AS (SELECT r.id, s.v, dense_rank() OVER (ORDER BY s.v{coll}) AS k FROM r CROSS JOIN "
        "LATERAL (VALUES (r.lo), (r.hi)) AS s(v)), "
        "bv AS (SELECT DISTINCT ON (k) k, v FROM b ORDER BY k), "
        "rk AS (SELECT min(k) AS lo_k, max(k) AS hi_k FROM b GROUP BY id), "
        "o AS (SELECT lo_k, hi_k, max(hi_k) OVER (ORDER BY lo_k, hi_k ROWS BETWEEN UNBOUNDED "
        "PRECEDING AND 1 PRECEDING) AS prev_k FROM rk), "
        "g AS (SELECT lo_k, hi_k, sum(CASE WHEN prev_k IS NOT NULL AND lo_k <= prev_k THEN 0 ELSE "
        "1 END) OVER (ORDER BY lo_k, hi_k) AS grp FROM o), "
        "dk AS (SELECT min(lo_k) AS lo_k, max(hi_k) AS hi_k FROM g GROUP BY grp), "
        "d AS (SELECT l.v AS lo, h.v AS hi FROM dk JOIN bv l ON l.k = dk.lo_k JOIN bv h ON h.k = "
        "dk.hi_k), "
        "{counted} UNION ALL SELECT NULL::text, count(*) FROM {src} WHERE $4::boolean AND {a}.{b} "
        "IS NULL HAVING count(*) > 0) ",
        fmt::arg("lo", range_bound("lo")), fmt::arg("hi", range_bound("hi")),
        fmt::arg("coll", batch_collate()), fmt::arg("a", a), fmt::arg("b", b),
        fmt::arg("src", source_as_alias()),
        fmt::arg("counted", spec_.batch_ranges_in_one_scan ? ranges_counted_in_one_scan()
                                                           : ranges_counted_per_range()));
}

// "c AS (SELECT batch_value, event_count ..." with one index range scan per merged range.
std::string RefreshPlanner::ranges_counted_per_range() const {
    return fmt::format(
        "c AS (SELECT s.v::text AS batch_value, count(*) AS event_count FROM d CROSS JOIN LATERAL "
        "(SELECT {a}.{b} AS v FROM {src} WHERE {a}.{b} >= d.lo AND {a}.{b} <= d.hi) s GROUP BY "
        "s.v",
        fmt::arg("a", q(spec_.source_alias)), fmt::arg("b", q(spec_.batch_column)),
        fmt::arg("src", source_as_alias()));
}

// The same without an index on the batch column: a scan per range would read the source once
// per range (a backlog of 2,000 batches loaded one by one: 2,000 scans). Instead one scan counts
// every batch between the lowest and highest bound (sg), and a batch is kept when it lies in a
// merged range: sorted together with the ranges' bounds (lo before an equal batch, hi after),
// its running sum of +1 per lo and -1 per hi is 1 (the merged ranges are disjoint). Only the
// type's ordering is used, as in the merge.
std::string RefreshPlanner::ranges_counted_in_one_scan() const {
    return fmt::format(
        "sg AS (SELECT {a}.{b} AS v, count(*) AS n FROM {src} WHERE {a}.{b} >= (SELECT lo FROM d "
        "ORDER BY lo{coll} LIMIT 1) AND {a}.{b} <= (SELECT hi FROM d ORDER BY hi{coll} DESC LIMIT "
        "1) GROUP BY {a}.{b}), "
        "sx AS (SELECT v, kind, n, sum(w) OVER (ORDER BY v{coll}, kind ROWS UNBOUNDED PRECEDING) "
        "AS depth FROM (SELECT lo AS v, 0 AS kind, 1 AS w, 0::int8 AS n FROM d UNION ALL SELECT "
        "hi, 2, -1, 0::int8 FROM d UNION ALL SELECT v, 1, 0, n FROM sg) e), "
        "c AS (SELECT v::text AS batch_value, n AS event_count FROM sx WHERE kind = 1 AND depth > "
        "0",
        fmt::arg("a", q(spec_.source_alias)), fmt::arg("b", q(spec_.batch_column)),
        fmt::arg("src", source_as_alias()), fmt::arg("coll", batch_collate()));
}

// $5 says rows were also updated or deleted since the last plan: a batch of the inserted ranges
// is then pending whatever its count (deleted and reloaded with as many rows, it is unchanged by
// count only).
std::string RefreshPlanner::pending_batches_in_ranges() const {
    return ranged_batch_counts() +
           fmt::format(
               "SELECT p.batch_value, p.event_count, p.recorded_count FROM ({}) p WHERE "
               "p.recorded_count IS NULL OR p.recorded_count < p.event_count OR $5::boolean",
               with_recorded_counts("c"));
}

// New, grown and shrunk batches of the logged ranges (all of them when $5: see above).
std::string RefreshPlanner::changed_batches_in_ranges() const {
    return ranged_batch_counts() +
           fmt::format(
               "SELECT p.batch_value, p.event_count, p.recorded_count FROM ({}) p WHERE "
               "p.recorded_count IS DISTINCT FROM p.event_count OR $5::boolean",
               with_recorded_counts("c"));
}

// The batches of the ranges UPDATE and DELETE changed, recounted for the manifest only (their
// rows' keys were queued): changed counts, and manifest batches of the ranges that no longer have
// a row (event_count 0, forgotten by the commit). Batches the scratch holds already are left out.
// Only when rows were changed, so the manifest probe costs nothing to a plain load.
std::string RefreshPlanner::find_recounted_batches() const {
    const std::string scratch = qualified(quote_, scratch_.batches);
    return fmt::format(
        "INSERT INTO {scratch} (batch_value, event_count, recorded_count) {counts}"
        "SELECT p.batch_value, p.event_count, p.recorded_count FROM ({joined}) p WHERE "
        "p.recorded_count IS DISTINCT FROM p.event_count AND NOT EXISTS (SELECT 1 FROM {scratch} "
        "s WHERE s.batch_value IS NOT DISTINCT FROM p.batch_value) "
        "UNION ALL SELECT m.batch_value, 0, m.event_count FROM {manifest} m WHERE m.model_id = "
        "$1::int8 AND m.batch_value IS NOT NULL AND {not_expiring} AND EXISTS (SELECT 1 FROM d "
        "WHERE m.batch_value::{t}{coll} >= d.lo AND m.batch_value::{t}{coll} <= d.hi) AND NOT "
        "EXISTS (SELECT 1 FROM c WHERE c.batch_value = m.batch_value) AND NOT EXISTS (SELECT 1 "
        "FROM {scratch} s WHERE s.batch_value = m.batch_value) "
        "UNION ALL SELECT NULL::text, 0, m.event_count FROM {manifest} m WHERE m.model_id = "
        "$1::int8 AND m.batch_value IS NULL AND $4::boolean AND NOT EXISTS (SELECT 1 FROM c WHERE "
        "c.batch_value IS NULL) AND NOT EXISTS (SELECT 1 FROM {scratch} s WHERE s.batch_value IS "
        "NULL)",
        fmt::arg("scratch", scratch), fmt::arg("counts", ranged_batch_counts()),
        fmt::arg("joined", with_recorded_counts("c")), fmt::arg("manifest", kManifest),
        fmt::arg("not_expiring", not_expiring("m.batch_value")), fmt::arg("t", spec_.batch_type),
        fmt::arg("coll", batch_collate()));
}

// The distinct keys, as text, of the rows of a transition table (the old or new rows of an
// UPDATE or DELETE of the source or of one of its partitions), evaluated only on the rows the
// query's own filters keep: the keys whose rows changed. No parameters.
std::string RefreshPlanner::transition_keys(const std::string &transition) const {
    std::vector<std::string> parts;
    for (const auto &k : spec_.keys)
        parts.push_back(fmt::format("({})::pg_catalog.text", k.source_expr));
    return fmt::format("SELECT DISTINCT {} FROM {} AS {} WHERE true{}", join(parts, ", "),
                       quote_(transition), q(spec_.source_alias), and_source_filter());
}

// The ids of the key sets queued for this model ($1 model id), and whether each asks for a full
// recompute (keys NULL, and no packed values either): the plan consumes exactly these.
std::string RefreshPlanner::queued_key_ids() const {
    return fmt::format(
        "SELECT id::pg_catalog.text AS id, keys IS NULL AND packed_values IS NULL AS "
        "full_recompute, "
        "dimension::pg_catalog.oid::pg_catalog.text AS dimension FROM {} WHERE model_id = "
        "$1::int8 ORDER BY id",
        kKeyQueue);
}

// Queues a full recompute of this model ($1 model id; as the catalog owner): the keys of rows a
// statement changed could not be computed.
std::string RefreshPlanner::queue_full_recompute() const {
    return fmt::format("INSERT INTO {} (model_id, keys) VALUES ($1::pg_catalog.int8, NULL)",
                       kKeyQueue);
}

// INSERT into the keys scratch the queued keys ($1 model id, $2 queue ids, int8[]) not there
// yet, cast back from text to the key types.
std::string RefreshPlanner::queued_keys_into_scratch() const {
    std::vector<std::string> casts;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        casts.push_back(fmt::format("keys[{}]::{}", i + 1, spec_.keys[i].type));
    const std::string keys = qualified(quote_, scratch_.keys);
    return fmt::format(
        "INSERT INTO {keys} ({cols}) SELECT {casts} FROM {queue} WHERE model_id = $1::int8 AND id "
        "= ANY ($2::int8[]) AND keys IS NOT NULL AND dimension IS NULL EXCEPT SELECT {cols} FROM "
        "{keys}",
        fmt::arg("keys", keys), fmt::arg("cols", key_columns(nullptr)),
        fmt::arg("casts", join(casts, ", ")), fmt::arg("queue", kKeyQueue));
}

// DELETE the consumed key sets ($1 model id, $2 queue ids, int8[]; as the catalog owner).
std::string RefreshPlanner::consume_queued_keys() const {
    return fmt::format(
        "DELETE FROM {} WHERE model_id = $1::pg_catalog.int8 AND id "
        "OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.int8[])",
        kKeyQueue);
}

// DELETE the manifest rows of batches that no longer have a row ($1 model id, $2 batch values,
// text[], a NULL element for the NULL batch; as the catalog owner).
std::string RefreshPlanner::forget_batches() const {
    return fmt::format(
        "DELETE FROM {} WHERE model_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8 AND (batch_value "
        "OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) OR batch_value IS NULL AND "
        "pg_catalog.array_position($2::pg_catalog.text[], NULL) IS NOT NULL)",
        kManifest);
}

// Every logged load of a batch value the manifest lacks is new since the last plan (loads seen
// by an earlier plan were counted there, and a batch counted to a row is in the manifest), so
// its event count is the sum of the logged row counts. Values are normalized through the
// column's type (text as the plan's pinned settings print it, as the manifest stores it).
std::string RefreshPlanner::find_logged_new_batches() const {
    return fmt::format(
        "INSERT INTO {scratch} (batch_value, event_count, recorded_count) SELECT l.batch_value, "
        "l.event_count, NULL::int8 FROM (SELECT x.v::{t}::text AS batch_value, "
        "sum(x.n::int8)::int8 "
        "AS event_count FROM unnest($2::text[], $3::text[]) AS x(v, n) GROUP BY 1) l WHERE NOT "
        "EXISTS (SELECT 1 FROM {manifest} m WHERE m.model_id = $1::int8 AND m.batch_value IN "
        "(SELECT y.v::{t}::text FROM unnest($2::text[]) AS y(v))) AND NOT EXISTS (SELECT 1 FROM "
        "{expiring} e WHERE e.model_id = $1::int8 AND e.batch_value IN (SELECT y.v::{t}::text FROM "
        "unnest($2::text[]) AS y(v)))",
        fmt::arg("scratch", qualified(quote_, scratch_.batches)), fmt::arg("t", spec_.batch_type),
        fmt::arg("manifest", kManifest), fmt::arg("expiring", kRetentionExpiring));
}

std::string RefreshPlanner::find_batches_in_ranges() const {
    return fmt::format("INSERT INTO {} (batch_value, event_count, recorded_count) {}",
                       qualified(quote_, scratch_.batches), changed_batches_in_ranges());
}

std::string RefreshPlanner::returning_new_events() const {
    return " RETURNING batch_value, event_count - coalesce(recorded_count, 0)";
}

std::string RefreshPlanner::scratch_event_total() const {
    return "SELECT coalesce(sum(event_count), 0) FROM " + qualified(quote_, scratch_.batches);
}

std::string RefreshPlanner::source_row_count() const {
    return "SELECT count(*) FROM " + source_ref();
}

// A grown batch counts its new events; a shrunk one (recounted) counts none.
std::string RefreshPlanner::pending_summary(const std::string &pending) const {
    return "SELECT count(*), coalesce(sum(greatest(event_count - coalesce(recorded_count, 0), "
           "0)), 0) FROM (" +
           pending + ") p";
}

// The batches of the scratch that lost events since the manifest recorded them: how many, and
// the first (as text) with its counts then and now.
std::string RefreshPlanner::shrunk_batches() const {
    return fmt::format(
        "SELECT count(*) OVER (), batch_value::pg_catalog.text, recorded_count, event_count FROM "
        "{} WHERE recorded_count > event_count ORDER BY batch_value NULLS FIRST LIMIT 1",
        qualified(quote_, scratch_.batches));
}

// Rebuild: every batch of the source, the NULL batch included, counted before the rows are
// computed (so the manifest never claims an event the target lacks).
std::string RefreshPlanner::all_batches() const {
    const std::string a = q(spec_.source_alias);
    const std::string b = q(spec_.batch_column);
    return fmt::format(
        "INSERT INTO {scratch} (batch_value, event_count) SELECT {a}.{b}::text, count(*) FROM "
        "{src} GROUP BY {a}.{b}",
        fmt::arg("scratch", qualified(quote_, scratch_.batches)), fmt::arg("a", a),
        fmt::arg("b", b), fmt::arg("src", source_as_alias()));
}

// The source's rows of the listed batches ($1, text[]), as a semi-join against the typed set of
// batch values: the planner hashes the set or looks each value up in the batch column's index,
// so the cost follows the rows read, not rows x batches (`= ANY ($1::text[]::type[])` is not
// folded when the cast is only STABLE, e.g. text to timestamp, and scanned the list per row).
std::string RefreshPlanner::in_listed_batches() const {
    return fmt::format("{}.{} IN (SELECT pg_catalog.unnest($1::text[])::{}{})",
                       q(spec_.source_alias), q(spec_.batch_column), spec_.batch_type,
                       batch_collate());
}

// The NULL batch when $1 lists it (a NULL element). Parameters are constants to the planner:
// without a NULL element the condition folds to false and its branch reads nothing.
std::string RefreshPlanner::null_batch_listed() const {
    return fmt::format(
        "({}.{} IS NULL AND pg_catalog.array_position($1::text[], NULL) IS NOT NULL)",
        q(spec_.source_alias), q(spec_.batch_column));
}

// The distinct keys of the listed batches' rows: the listed values (one semi-join, see
// in_listed_batches), UNION the NULL batch's rows in a branch of their own (an OR would keep the
// IN from becoming a join). by_index reads each listed value's rows through the batch column's
// index (a LATERAL lookup fenced by OFFSET 0 so no other index or filter competes; the caller
// turns sequential scans off): robust to statistics that put one batch at half the table.
std::string RefreshPlanner::listed_batch_keys(bool by_index) const {
    const std::string a = q(spec_.source_alias);
    const std::string tail = and_source_filter() + window_filter(2);
    std::string listed;
    if (by_index)
        listed = fmt::format(
            "SELECT DISTINCT {exprs} FROM (SELECT DISTINCT "
            "pg_catalog.unnest($1::text[])::{t}{coll} AS v) AS "
            "_incmodel_bv CROSS JOIN LATERAL (SELECT * FROM {src} WHERE {a}.{b} = _incmodel_bv.v "
            "OFFSET 0) AS {a} WHERE true{tail}",
            fmt::arg("exprs", key_exprs()), fmt::arg("t", spec_.batch_type),
            fmt::arg("coll", batch_collate()), fmt::arg("src", source_as_alias()), fmt::arg("a", a),
            fmt::arg("b", q(spec_.batch_column)), fmt::arg("tail", tail));
    else
        listed = fmt::format("SELECT DISTINCT {} FROM {} WHERE {}{}", key_exprs(),
                             source_as_alias(), in_listed_batches(), tail);
    return fmt::format("{} UNION SELECT DISTINCT {} FROM {} WHERE {}{}", listed, key_exprs(),
                       source_as_alias(), null_batch_listed(), tail);
}

// Step 2: the keys touched by the batches of this run (of the rows the query's filters keep).
std::string RefreshPlanner::collect_keys(bool by_index) const {
    return fmt::format("INSERT INTO {} ({}) {}", qualified(quote_, scratch_.keys),
                       key_columns(nullptr), listed_batch_keys(by_index));
}

std::string RefreshPlanner::count_keys() const {
    return "SELECT count(*) FROM (" + listed_batch_keys(false) + ") touched";
}

// Fresh statistics on the keys let the planner pick per-key index lookups for small runs.
std::string RefreshPlanner::analyze_keys() const {
    return "ANALYZE " + qualified(quote_, scratch_.keys);
}

std::string RefreshPlanner::count_null_keys() const {
    std::vector<std::string> nulls;
    for (size_t i = 0; i < spec_.keys.size(); ++i)
        nulls.push_back(fmt::format("k{} IS NULL", i + 1));
    return fmt::format("SELECT count(*) FROM {} WHERE {}", qualified(quote_, scratch_.keys),
                       join(nulls, " OR "));
}

// Step 3: the user's query over only the events of the touched keys. Non-NULL keys are matched
// with IN (index friendly); keys with a NULL part, when present, by IS NOT DISTINCT FROM in a
// second branch that only ever reads rows whose key has a NULL part (so no row is read twice).
std::string RefreshPlanner::recompute(bool with_null_keys) const {
    const std::string window = spec_.bounded_recompute ? window_filter(1) : "";
    return fmt::format(
        "INSERT INTO {} ({}) {}", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }),
        with_restricted_source(restricted_to_keys(with_null_keys, window)));
}

// The source's rows of the touched keys, each branch narrowed further by filter (" AND ...")
// and by the query's own filters on the source (evaluated before the key expressions).
// keyed_filter narrows the first branch only (rows of non-NULL keys: a daily model's day ranges).
std::string RefreshPlanner::restricted_to_keys(bool with_null_keys, const std::string &filter,
                                               const std::string &keyed_filter) const {
    std::vector<std::string> exprs;
    for (const auto &k : spec_.keys) exprs.push_back(k.source_expr);
    const std::string narrowed = and_source_filter() + filter;
    if (spec_.keys.size() == 1 && spec_.keys[0].through)
        return restricted_through_dimension(with_null_keys, narrowed);
    std::string restricted = fmt::format("SELECT * FROM {} WHERE {}{}{}", source_as_alias(),
                                         in_keys(exprs), narrowed, keyed_filter);
    if (with_null_keys)
        restricted += fmt::format(" UNION ALL SELECT * FROM {} WHERE {}{}", source_as_alias(),
                                  in_null_keys(exprs), narrowed);
    return restricted;
}

// restricted_to_keys() for a key read through a dimension: the source rows whose join value the
// dimension maps to a touched key, and the unmatched rows whose own key is touched, each found by
// index before the exact per-row key is compared; a row is in one branch only (the second keeps
// the rows without such a match), so duplicates of a row stay duplicates.
std::string RefreshPlanner::restricted_through_dimension(bool with_null_keys,
                                                         const std::string &narrowed) const {
    const KeyThroughDimension &t = *spec_.keys[0].through;
    const std::vector<std::string> exprs{spec_.keys[0].source_expr};
    auto mapped = [&](const std::string &condition) {
        return fmt::format("{} {} ANY (SELECT {} FROM {} AS {} WHERE {})", t.source_column, t.op,
                           t.column, t.relation, t.alias, condition);
    };
    const std::string to_touched = mapped(in_keys({t.matched}));
    std::string restricted = fmt::format(
        "SELECT * FROM {src} WHERE {mapped} AND {exact}{narrowed} UNION ALL SELECT * FROM {src} "
        "WHERE {own} AND NOT COALESCE({mapped}, false) AND {exact}{narrowed}",
        fmt::arg("src", source_as_alias()), fmt::arg("mapped", to_touched),
        fmt::arg("exact", in_keys(exprs)), fmt::arg("own", in_keys({t.unmatched})),
        fmt::arg("narrowed", narrowed));
    if (with_null_keys)
        restricted += fmt::format(
            " UNION ALL SELECT * FROM {src} WHERE (COALESCE({mapped}, false) OR "
            "({unmatched}) IS NULL) AND {exact}{narrowed}",
            fmt::arg("src", source_as_alias()),
            fmt::arg("mapped", mapped("(" + t.matched + ") IS NULL")),
            fmt::arg("unmatched", t.unmatched), fmt::arg("exact", in_null_keys(exprs)),
            fmt::arg("narrowed", narrowed));
    return restricted;
}

std::string RefreshPlanner::keys_outside_window() const {
    std::vector<std::string> exprs;
    for (const auto &k : spec_.keys) exprs.push_back(k.source_expr);
    return fmt::format(
        "SELECT count(*) FROM (SELECT DISTINCT {exprs} FROM {src} WHERE true{filter} AND {in_keys} "
        "AND {a}.{w} < $1::timestamptz) outside",
        fmt::arg("exprs", key_exprs()), fmt::arg("src", source_as_alias()),
        fmt::arg("filter", and_source_filter()), fmt::arg("in_keys", in_keys(exprs)),
        fmt::arg("a", q(spec_.source_alias)),
        fmt::arg("w", spec_.window_column ? q(*spec_.window_column) : std::string()));
}

// Rebuild: the user's query as written, over all events.
std::string RefreshPlanner::recompute_all() const {
    return fmt::format(
        "INSERT INTO {} ({}) {}", qualified(quote_, scratch_.rows),
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); }),
        spec_.query_head + source_ref() +
            (spec_.alias_in_query ? "" : " AS " + q(spec_.source_alias)) + " " + spec_.query_tail);
}

// Commit: remove every row of a touched key (keys whose result is now empty disappear too),
// matched with the key's own equality as the target's unique index compares them.
std::string RefreshPlanner::delete_target_keys() const {
    std::vector<std::string> tcols;
    for (const auto &k : spec_.keys)
        tcols.push_back(fmt::format("{}.{}", kTargetAlias, q(k.column)));
    return fmt::format("DELETE FROM {} AS {} WHERE {}", qualified(quote_, spec_.target),
                       kTargetAlias, in_keys(tcols));
}

// The same for keys with a NULL part, which the equality cannot match.
std::string RefreshPlanner::delete_target_null_keys() const {
    std::vector<std::string> tcols;
    for (const auto &k : spec_.keys)
        tcols.push_back(fmt::format("{}.{}", kTargetAlias, q(k.column)));
    return fmt::format("DELETE FROM {} AS {} WHERE {}", qualified(quote_, spec_.target),
                       kTargetAlias, in_null_keys(tcols));
}

std::string RefreshPlanner::truncate_target() const {
    return "TRUNCATE " + qualified(quote_, spec_.target);
}

std::string RefreshPlanner::insert_target_rows() const {
    const std::string cols =
        join_map(spec_.outputs, ", ", [this](const OutputColumn &c) { return q(c.name); });
    return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", qualified(quote_, spec_.target),
                       cols, cols, qualified(quote_, scratch_.rows));
}

// The batches this run covers, read by the model's owner from its scratch table: the commit
// hands them to the catalog owner as parameters, so the catalog owner never reads a relation
// the model's owner can alter.
std::string RefreshPlanner::scratch_batches() const {
    return fmt::format("SELECT batch_value::pg_catalog.text, event_count::pg_catalog.text FROM {}",
                       qualified(quote_, scratch_.batches));
}

// The manifest row of a batch records its full event count at planning time. The NULL batch has
// a row too: the manifest's unique key treats NULLs as equal (NULLS NOT DISTINCT).
std::string RefreshPlanner::record_manifest() const {
    return fmt::format(
        "INSERT INTO {} (model_id, batch_value, event_count, run_id) SELECT $1::pg_catalog.int8, "
        "b.batch_value, b.event_count, $2::pg_catalog.int8 FROM ROWS FROM (pg_catalog.unnest("
        "$3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]::pg_catalog.int8[])) AS "
        "b(batch_value, event_count) ON "
        "CONFLICT (model_id, batch_value) DO UPDATE SET event_count = EXCLUDED.event_count, "
        "run_id = EXCLUDED.run_id, recorded_at = pg_catalog.now()",
        kManifest);
}

std::string RefreshPlanner::clear_manifest() const {
    return fmt::format("DELETE FROM {} WHERE model_id = $1::int8", kManifest);
}

}  // namespace incmodel::core
