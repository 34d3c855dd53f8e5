#include "pg/analysis/query_analysis.hpp"

#include "pg/analysis/day_range.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "core/refresh_planner.hpp"
#include "core/sql_text.hpp"
#include "pg/analysis/feature_keys.hpp"
#include "pg/analysis/key_equivalence.hpp"
#include "pg/analysis/source_scope.hpp"
#include "pg/analysis/stitched_keys.hpp"
#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/spi_client.hpp"

extern "C" {
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "utils/typcache.h"
}

namespace incmodel::pg {

namespace {

struct RangeVarSearch {
    const char *schema;
    const char *relname;
    RangeVar *found;
};

// Finds the RangeVar of a relation anywhere in a raw parse tree: in the top-level FROM (JOIN
// trees included), or in a subquery's or CTE's that reads the source (called from C).
bool find_rangevar_walker(Node *node, void *ctx) {
    auto *s = static_cast<RangeVarSearch *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, RangeVar)) {
        auto *rv = reinterpret_cast<RangeVar *>(node);
        if (rv->schemaname && std::strcmp(rv->schemaname, s->schema) == 0 &&
            std::strcmp(rv->relname, s->relname) == 0) {
            s->found = rv;
            return true;
        }
        return false;
    }
    return raw_expression_tree_walker(node, as_walker(find_rangevar_walker), ctx);
}

// What makes a query's result depend on when or by whom it runs, although PostgreSQL calls it
// stable or reads it as a column: found by drift_walker, named in the error.
struct Drift {
    const char *what;  // a special value or system column; nullptr: none found
    Oid func;          // or a function (InvalidOid: none)
    bool system_column;
};

// SQL's special time and session values (CURRENT_DATE, CURRENT_USER, ...), as written.
const char *sql_value_name(SQLValueFunctionOp op) {
    switch (op) {
        case SVFOP_CURRENT_DATE:
            return "CURRENT_DATE";
        case SVFOP_CURRENT_TIME:
        case SVFOP_CURRENT_TIME_N:
            return "CURRENT_TIME";
        case SVFOP_CURRENT_TIMESTAMP:
        case SVFOP_CURRENT_TIMESTAMP_N:
            return "CURRENT_TIMESTAMP";
        case SVFOP_LOCALTIME:
        case SVFOP_LOCALTIME_N:
            return "LOCALTIME";
        case SVFOP_LOCALTIMESTAMP:
        case SVFOP_LOCALTIMESTAMP_N:
            return "LOCALTIMESTAMP";
        case SVFOP_CURRENT_ROLE:
            return "CURRENT_ROLE";
        case SVFOP_CURRENT_USER:
            return "CURRENT_USER";
        case SVFOP_USER:
            return "USER";
        case SVFOP_SESSION_USER:
            return "SESSION_USER";
        case SVFOP_CURRENT_CATALOG:
            return "CURRENT_CATALOG";
        case SVFOP_CURRENT_SCHEMA:
            return "CURRENT_SCHEMA";
    }
    return "a special SQL value";
}

// The stable pg_catalog functions that read the clock or the session: each run would see
// another value. (Volatile ones are refused already; user functions are taken as declared.)
bool reads_clock_or_session(Oid func) {
    static const char *const names[] = {"now",
                                        "statement_timestamp",
                                        "transaction_timestamp",
                                        "timeofday",
                                        "clock_timestamp",
                                        "current_setting",
                                        "current_schemas",
                                        "current_schema",
                                        "current_user",
                                        "session_user",
                                        "pg_backend_pid",
                                        "inet_client_addr"};
    HeapTuple tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(func));
    if (!HeapTupleIsValid(tup)) return false;
    auto *proc = (Form_pg_proc)GETSTRUCT(tup);
    bool found = false;
    if (proc->pronamespace == PG_CATALOG_NAMESPACE)
        for (const char *n : names)
            if (std::strcmp(NameStr(proc->proname), n) == 0) found = true;
    ReleaseSysCache(tup);
    return found;
}

// The names of the system columns (attribute numbers -1 .. -6).
const char *system_column_name(AttrNumber attno) {
    static const char *const names[] = {"ctid", "xmin", "cmin", "xmax", "cmax", "tableoid"};
    return attno < 0 && attno >= -6 ? names[-attno - 1] : "a system column";
}

// Finds the first clock or session read, or system column, anywhere in a query (runs inside
// pg_call: syscache lookups may ERROR; nothing here has a destructor).
bool drift_walker(Node *node, void *ctx) {
    auto *d = static_cast<Drift *>(ctx);
    if (node == nullptr || d->what != nullptr || OidIsValid(d->func)) return false;
    if (IsA(node, SQLValueFunction)) {
        d->what = sql_value_name(reinterpret_cast<SQLValueFunction *>(node)->op);
        return false;
    }
    if (IsA(node, Var) && reinterpret_cast<Var *>(node)->varattno < 0) {
        d->what = system_column_name(reinterpret_cast<Var *>(node)->varattno);
        d->system_column = true;
        return false;
    }
    if (IsA(node, FuncExpr) && reads_clock_or_session(reinterpret_cast<FuncExpr *>(node)->funcid)) {
        d->func = reinterpret_cast<FuncExpr *>(node)->funcid;
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(drift_walker), ctx, 0);
    return expression_tree_walker(node, as_walker(drift_walker), ctx);
}

// --- helpers that call PostgreSQL -------------------------------------------------------------

std::string type_name(Oid type, int32 typmod, Oid collation) {
    std::string name = pg_call([type, typmod] { return format_type_with_typemod(type, typmod); });
    Oid default_coll = pg_call([type] { return get_typcollation(type); });
    if (OidIsValid(collation) && collation != default_coll) {
        const char *coll = pg_call([collation] { return generate_collation_name(collation); });
        name += std::string(" COLLATE ") + coll;
    }
    return name;
}

struct Token {
    int code;
    int location;
};

// The tokens of a SQL text, from PostgreSQL's own scanner.
std::vector<Token> scan_tokens(const std::string &sql) {
    const char *text = sql.c_str();
    core_yy_extra_type *extra = static_cast<core_yy_extra_type *>(
        pg_call([] { return palloc0(sizeof(core_yy_extra_type)); }));
    core_yyscan_t scanner = pg_call(
        [text, extra] { return scanner_init(text, extra, &ScanKeywords, ScanKeywordTokens); });
    std::vector<Token> tokens;
    for (;;) {
        core_YYSTYPE lval;
        YYLTYPE loc;
        int code = pg_call([&lval, &loc, scanner] { return core_yylex(&lval, &loc, scanner); });
        if (code == 0) break;
        tokens.push_back({code, loc});
    }
    pg_call([scanner] { scanner_finish(scanner); });
    return tokens;
}

// The canonical text of an analyzed query (names from OIDs, fully qualified) split around its
// source reference, with the source's alias: what the planner splices the restricted source into.
// Used at creation and at every load from the stored tree, so the texts follow renames.
void render_canonical(Query *query, Oid source, core::ModelSpec &spec, std::string &canonical_out) {
    {
        CatalogOnlySearchPath path;
        Query *copy = static_cast<Query *>(pg_call([query] { return copyObjectImpl(query); }));
        canonical_out = pg_call([copy] { return pg_get_querydef(copy, false); });
    }
    const char *canonical = canonical_out.c_str();
    List *craw = pg_call([canonical] { return raw_parser(canonical, RAW_PARSE_DEFAULT); });
    auto *cselect = reinterpret_cast<SelectStmt *>(linitial_node(RawStmt, craw)->stmt);
    const char *src_schema =
        pg_call([source] { return get_namespace_name(get_rel_namespace(source)); });
    const char *src_name = pg_call([source] { return get_rel_name(source); });
    spec.source = {src_schema, src_name};
    // The source is read once in the whole query (analysis refuses more), so the first match is it.
    RangeVarSearch search{src_schema, src_name, nullptr};
    pg_call([cselect, &search] {
        (void)raw_expression_tree_walker(reinterpret_cast<Node *>(cselect),
                                         as_walker(find_rangevar_walker), &search);
    });
    RangeVar *rv = search.found;
    if (rv == nullptr)
        throw std::runtime_error("incmodel: could not find the source in the deparsed query: " +
                                 canonical_out);
    if (rv->alias && rv->alias->colnames != NIL)
        unsupported("column aliases on the source relation are not supported",
                    "Rename columns in the select list instead.");
    spec.source_alias = rv->alias ? rv->alias->aliasname : rv->relname;
    if (spec.source_alias.rfind("_incmodel", 0) == 0)
        throw UserError(ERRCODE_RESERVED_NAME,
                        "incmodel: alias \"" + spec.source_alias + "\" is reserved", "",
                        "Aliases starting with _incmodel are reserved for incmodel.");
    spec.alias_in_query = rv->alias != nullptr;
    std::vector<Token> tokens = scan_tokens(canonical_out);
    size_t i = 0;
    while (i < tokens.size() && tokens[i].location != rv->location) ++i;
    if (i == tokens.size())
        throw std::runtime_error("incmodel: source token not found in the deparsed query");
    int start = tokens[i].location;
    if (!rv->inh && i > 0 && pg_strncasecmp(canonical + tokens[i - 1].location, "ONLY", 4) == 0)
        start = tokens[i - 1].location;
    size_t j = i;
    while (j + 2 < tokens.size() && tokens[j + 1].code == '.') j += 2;
    int end =
        j + 1 < tokens.size() ? tokens[j + 1].location : static_cast<int>(canonical_out.size());
    spec.query_head = canonical_out.substr(0, start);
    spec.query_tail = canonical_out.substr(end);
}

// Refuses what makes a rebuild differ from itself with no new data: the clock and the session
// (now(), CURRENT_DATE, CURRENT_USER, current_setting()) and system columns (xmin, ctid,
// tableoid change when rows are rewritten, vacuumed, moved or restored).
void require_no_drift(Query *query) {
    Drift d{nullptr, InvalidOid, false};
    pg_call([query, &d] { (void)query_tree_walker(query, as_walker(drift_walker), &d, 0); });
    if (d.system_column)
        throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                        std::string("incmodel: the query reads the system column ") + d.what,
                        "System columns such as xmin, ctid and tableoid change when rows are "
                        "updated, vacuumed, moved between partitions or restored, so a refresh "
                        "could not equal a rebuild.",
                        "Read ordinary columns only; keep what you need (a load time, a source "
                        "name) in a column of the events.");
    std::string what = d.what ? d.what : "";
    if (OidIsValid(d.func)) {
        const Oid func = d.func;
        what = std::string(pg_call([func] { return get_func_name(func); })) + "()";
    }
    if (!what.empty())
        throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                        "incmodel: the query reads the clock or the session (" + what + ")",
                        what +
                            " gives another value in every run (or for every role), so the "
                            "target would drift from a rebuild with no new data.",
                        "Compare event times with fixed dates, keep the reference time in a column "
                        "of the events, or compute time-relative values when reading the target.");
}

// The equality operator key part `name` is matched with: its GROUP BY's (the one the query
// groups by: the type's default btree or hash opclass), or the type's default for an event key;
// the target's unique index compares with the same operator.
core::QualifiedName key_equality(Query *query, const std::string &name) {
    Oid eqop = InvalidOid;
    Node *expr = nullptr;
    ListCell *lc;
    foreach (lc, query->targetList) {
        auto *tle = static_cast<TargetEntry *>(lfirst(lc));
        if (tle->resjunk || tle->resname == nullptr || name != tle->resname) continue;
        expr = reinterpret_cast<Node *>(tle->expr);
        ListCell *gc;
        foreach (gc, query->groupClause) {
            auto *sgc = static_cast<SortGroupClause *>(lfirst(gc));
            if (tle->ressortgroupref != 0 && sgc->tleSortGroupRef == tle->ressortgroupref)
                eqop = sgc->eqop;
        }
    }
    if (!OidIsValid(eqop) && expr != nullptr)
        eqop =
            pg_call([expr] { return lookup_type_cache(exprType(expr), TYPECACHE_EQ_OPR)->eq_opr; });
    if (!OidIsValid(eqop))
        throw UserError(ERRCODE_UNDEFINED_FUNCTION,
                        "incmodel: key column \"" + name +
                            "\" has a type without an equality "
                            "operator",
                        "Touched keys are matched with the key type's default equality.",
                        "Key on a type with a default btree operator class (cast it, e.g. to "
                        "text).");
    core::QualifiedName out;
    pg_call([eqop, &out] {
        HeapTuple tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(eqop));
        if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for operator %u", eqop);
        auto *op = (Form_pg_operator)GETSTRUCT(tup);
        const char *schema = get_namespace_name(op->oprnamespace);
        out.schema.assign(schema);
        out.name.assign(NameStr(op->oprname));
        ReleaseSysCache(tup);
    });
    return out;
}

// The top-level AND parts of the WHERE clause that read only the source (no subqueries),
// deparsed over its alias: the rows whose key expressions the query evaluates ("" when none).
// query is the one whose FROM reads the source: for a source read in a subquery or CTE, its WHERE
// (applied below its window functions, so the restricted rows may repeat it); the outer query's
// conditions on the subquery's columns (n = 1) are not the source's.
std::string source_filter(Query *query, int source_rti, const std::string &alias, Oid source) {
    Node *quals = query->jointree ? query->jointree->quals : nullptr;
    if (quals == nullptr || source_rti >= 64) return "";
    List *parts = pg_call([quals] { return make_ands_implicit(reinterpret_cast<Expr *>(quals)); });
    List *kept = NIL;
    ListCell *lc;
    foreach (lc, parts) {
        Node *part = static_cast<Node *>(lfirst(lc));
        if (reads_only(part, source_rti))
            kept = pg_call([kept, part] { return lappend(kept, part); });
    }
    if (kept == NIL) return "";
    Node *all = pg_call([kept] { return reinterpret_cast<Node *>(make_ands_explicit(kept)); });
    return deparse_over(all, source_rti, alias, source);
}

// What a stored query tree refers to by OID: relations (with the columns read) and functions.
struct TreeRefs {
    List *rtes;   // RangeTblEntry * of kind RTE_RELATION, every query level
    List *funcs;  // function OIDs
};

bool tree_refs_walker(Node *node, void *ctx) {
    auto *r = static_cast<TreeRefs *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (rte->rtekind == RTE_RELATION) r->rtes = lappend(r->rtes, rte);
        return false;
    }
    if (IsA(node, FuncExpr))
        r->funcs = lappend_oid(r->funcs, reinterpret_cast<FuncExpr *>(node)->funcid);
    else if (IsA(node, Aggref))
        r->funcs = lappend_oid(r->funcs, reinterpret_cast<Aggref *>(node)->aggfnoid);
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(tree_refs_walker), ctx,
                                 QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(tree_refs_walker), ctx);
}

// Whether a relation still has a (not dropped) column attno.
bool column_exists(Oid relid, AttrNumber attno) {
    return pg_call([relid, attno] {
        HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attno));
        if (!HeapTupleIsValid(tup)) return false;
        bool dropped = ((Form_pg_attribute)GETSTRUCT(tup))->attisdropped;
        ReleaseSysCache(tup);
        return !dropped;
    });
}

// Raises a clear error when something the stored query reads was dropped (the tree names it by
// OID; deparsing it would fail with "cache lookup failed").
void require_tree_references(const std::string &model, Query *query) {
    TreeRefs refs{NIL, NIL};
    pg_call([query, &refs] {
        (void)query_tree_walker(query, as_walker(tree_refs_walker), &refs, QTW_EXAMINE_RTES_BEFORE);
    });
    const std::string hint =
        "Drop the model with incmodel.drop_model() and create it again over what replaces it.";
    ListCell *lc;
    foreach (lc, refs.rtes) {
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        const Oid relid = rte->relid;
        const std::string as_named = rte->eref->aliasname;
        const char *name = pg_call([relid] { return get_rel_name(relid); });
        if (name == nullptr)
            throw UserError(
                ERRCODE_UNDEFINED_TABLE,
                "incmodel: a relation the query of model \"" + model + "\" reads no longer exists",
                "The query read it as \"" + as_named +
                    "\"; it was dropped after the model was created.",
                hint);
        int x = -1;
        for (;;) {
            Bitmapset *cols = rte->selectedCols;
            x = pg_call([cols, x] { return bms_next_member(cols, x); });
            if (x < 0) break;
            const AttrNumber attno = x + FirstLowInvalidHeapAttributeNumber;
            if (attno <= 0 || column_exists(relid, attno)) continue;
            std::string column = attno <= list_length(rte->eref->colnames)
                                     ? strVal(list_nth(rte->eref->colnames, attno - 1))
                                     : std::to_string(attno);
            throw UserError(ERRCODE_UNDEFINED_COLUMN,
                            "incmodel: column \"" + column + "\" of relation \"" + name +
                                "\" that the query of model \"" + model +
                                "\" reads no longer exists",
                            "It was dropped after the model was created.", hint);
        }
    }
    foreach (lc, refs.funcs) {
        const Oid func = lfirst_oid(lc);  // its name went with it
        bool exists =
            pg_call([func] { return SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(func)); });
        if (!exists)
            throw UserError(
                ERRCODE_UNDEFINED_FUNCTION,
                "incmodel: a function the query of model \"" + model + "\" calls no longer exists",
                "It was dropped after the model was created.", hint);
    }
}

// The equality GROUP BY compares output tle with (InvalidOid when it is no GROUP BY output).
Oid group_eqop(Query *query, TargetEntry *tle) {
    ListCell *lc;
    foreach (lc, query->groupClause) {
        auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
        if (tle->ressortgroupref != 0 && sgc->tleSortGroupRef == tle->ressortgroupref)
            return sgc->eqop;
    }
    return InvalidOid;
}

// The expression over the source (as scope.reader sees it) that output tle is a key for: its own
// when it reads only the source's scope, else the source side of an equality with it that holds
// in every row (*promoted then); nullptr when neither (near: why a near miss does not count).
// Analysis and every later rendering of the stored tree find keys through this one function.
Node *key_source_expr(const SourceScope &scope, TargetEntry *tle, Oid eqop, bool *promoted,
                      KeyEquivalence *near) {
    Node *expr = reinterpret_cast<Node *>(tle->expr);
    *promoted = false;
    if (Node *own = to_source(scope, expr)) return own;
    if (!OidIsValid(eqop)) return nullptr;
    KeyEquivalence eq = source_equivalent(scope, expr, eqop);
    if (eq.source_side == nullptr) {
        if (near && near->detail.empty()) *near = eq;
        return nullptr;
    }
    *promoted = true;
    return to_source(scope, eq.source_side);
}

}  // namespace

bool has_index_led_by(Oid relid, AttrNumber attnum) {
    return spi_exec(
               "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid "
               "OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND i.indkey[0] OPERATOR(pg_catalog.=) "
               "$2::pg_catalog.int2)",
               {SqlParam::int64(relid), SqlParam::int64(attnum)})
               .scalar() == std::optional<std::string>("t");
}

std::string quote_ident(std::string_view ident) {
    std::string copy(ident);
    const char *c = copy.c_str();
    return pg_call([c] { return quote_identifier(c); });
}

AnalyzedQuery analyze_model_query(const ModelQueryInput &input) {
    AnalyzedQuery out;
    core::ModelSpec &spec = out.spec;
    const char *sql = input.query.c_str();

    List *raw = pg_call([sql] { return raw_parser(sql, RAW_PARSE_DEFAULT); });
    if (list_length(raw) != 1)
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: query must be exactly one SELECT statement",
                        "It contains " + std::to_string(list_length(raw)) + " statements.",
                        "Pass the SELECT of the full rebuild, without CREATE TABLE AS or INSERT.");
    RawStmt *rawstmt = linitial_node(RawStmt, raw);
    if (!IsA(rawstmt->stmt, SelectStmt))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: query must be a SELECT statement", "",
                        "Pass the SELECT of the full rebuild, without CREATE TABLE AS or INSERT.");

    Query *query = pg_call(
        [rawstmt, sql] { return parse_analyze_fixedparams(rawstmt, sql, nullptr, 0, nullptr); });

    // --- what key-wise recompute cannot reproduce -------------------------------------------
    if (query->setOperations)
        unsupported("set operations (UNION, INTERSECT, EXCEPT) are not supported",
                    "Put the UNION in a view and aggregate over the view.");
    if (query->limitCount || query->limitOffset)
        unsupported("LIMIT and OFFSET are not supported",
                    "A model keeps every group; remove LIMIT/OFFSET.");
    if (query->sortClause)
        unsupported("ORDER BY is not supported",
                    "A table has no order; remove ORDER BY and sort when reading the target.");
    if (query->hasWindowFuncs)
        unsupported("window functions are not supported",
                    "A window function can look across keys, so recomputing only touched keys "
                    "would change other rows; compute it when reading the target.");
    if (query->hasDistinctOn)
        unsupported("DISTINCT ON is not supported",
                    "DISTINCT ON picks rows across groups; use GROUP BY with min()/max().");
    if (query->groupingSets)
        unsupported("GROUPING SETS, ROLLUP and CUBE are not supported",
                    "Create one model per grouping.");
    if (query->rowMarks || query->hasModifyingCTE)
        unsupported("FOR UPDATE/SHARE and data-modifying WITH are not supported", "");
    if (query->hasTargetSRFs)
        unsupported("set-returning functions in the select list are not supported", "");
    if (input.event_key) {
        if (query->groupClause != NIL || query->hasAggs || query->havingQual)
            throw UserError(ERRCODE_GROUPING_ERROR,
                            "incmodel: an append model's query selects events: no GROUP BY or "
                            "aggregates",
                            "strategy => 'append' keeps one row per event_key.",
                            "Remove GROUP BY, or create a daily model with day_key.");
        if (query->distinctClause != NIL)
            unsupported("DISTINCT is not supported in an append model",
                        "Duplicates are removed on event_key already.");
    } else if (query->groupClause == NIL)
        throw UserError(ERRCODE_GROUPING_ERROR, "incmodel: query must aggregate with GROUP BY",
                        "Without GROUP BY there is no key to recompute incrementally.",
                        "Add GROUP BY over the columns that identify a row of the target "
                        "(e.g. the session id).");
    bool is_volatile = pg_call([query] { return contain_volatile_functions((Node *)query); });
    if (is_volatile)
        unsupported("the query calls volatile functions",
                    "Functions such as random() or clock_timestamp() give another result on "
                    "every run, so no incremental result can equal a rebuild.");
    require_no_drift(query);

    // --- the source: the relation of the top-level FROM that has the batch column, or of the ---
    // --- FROM of one subquery or CTE there (a dedupe) --------------------------------------------
    const char *batch = input.batch_column.c_str();
    const Oid features_input = input.source_relid;
    auto is_source = [batch, features_input](Oid relid) {
        if (OidIsValid(features_input)) return relid == features_input;
        return pg_call([relid, batch] { return get_attnum(relid, batch); }) != InvalidAttrNumber;
    };
    std::vector<SourceScope> found = find_sources(query, is_source);
    if (found.empty() && OidIsValid(input.source_relid))
        throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                        "incmodel: the query of a features model must read its input model's "
                        "target",
                        "depends_on names the model whose target is this model's source.",
                        "Select FROM the input model's target table.");
    if (found.empty() && reads_source_anywhere(query, is_source))
        unsupported("the relation with the batch column \"" + input.batch_column +
                        "\" is read too deep in the query",
                    "A model's source is read in the top-level FROM clause, or in the FROM of one "
                    "subquery or CTE there (not a subquery of a subquery, a CTE read by another "
                    "CTE, a UNION or a sublink).",
                    "Deduplicate or filter the events in one subquery or CTE read by the main "
                    "query: WITH deduped AS (SELECT ..., ROW_NUMBER() OVER (PARTITION BY key, "
                    "event_id ORDER BY collector_tstamp) AS n FROM atomic.events) SELECT ... "
                    "FROM deduped WHERE n = 1 GROUP BY key.");
    if (found.empty())
        throw UserError(ERRCODE_UNDEFINED_COLUMN,
                        "incmodel: no relation in the query's FROM has the batch column \"" +
                            input.batch_column + "\"",
                        "The source of a model is the relation of the top-level FROM clause "
                        "(or of a subquery or CTE there) that carries batch_column.",
                        "Name the column that identifies a load batch, e.g. batch_column => "
                        "'etl_tstamp'.");
    if (found.size() > 1)
        throw UserError(ERRCODE_AMBIGUOUS_COLUMN,
                        "incmodel: several relations in FROM have the batch column \"" +
                            input.batch_column + "\"",
                        "incmodel cannot tell which one is the source.",
                        "Join dimension tables that do not carry the batch column, or rename it "
                        "in a view.");
    const SourceScope scope = found.front();
    if (scope.nested() && OidIsValid(input.source_relid))
        unsupported("a features model reads its input model's target in a subquery",
                    "\"" + scope.container +
                        "\" reads the input's target; a features model's keys are the input's "
                        "key columns as its top-level FROM reads them.",
                    "Select FROM the input model's target table in the top-level FROM clause.");
    if (scope.nested() && input.event_key)
        unsupported("an append model reads its source in a subquery",
                    "\"" + scope.container +
                        "\" reads the source; an append model keeps the first copy of each "
                        "event_key among the source's rows itself.",
                    "An append model deduplicates on event_key itself: select FROM the source "
                    "in the top-level FROM clause.");
    if (scope.nested() && input.daily)
        unsupported("a daily model reads its source in a subquery",
                    "\"" + scope.container +
                        "\" reads the source; a daily model counts and "
                        "places the source's rows by their load time and event day itself.",
                    "Read the source in the top-level FROM clause, or deduplicate in a batch "
                    "model (batch_column => 'etl_tstamp').");
    RangeTblEntry *source_rte = scope.source_rte();
    out.source_oid = source_rte->relid;
    if (!OidIsValid(input.source_relid)) {
        const Oid relid = out.source_oid;
        out.batch_attnum = pg_call([relid, batch] { return get_attnum(relid, batch); });
    }
    const Oid source = out.source_oid;
    const int uses = relation_references(query, source);
    if (uses != 1)
        unsupported(
            "the source relation is referenced more than once (in a subquery, CTE or "
            "self-join)",
            "Refer to the source once, in the top-level FROM clause or in one subquery or CTE "
            "there.");
    char persistence = pg_call([source] { return get_rel_persistence(source); });
    if (persistence == RELPERSISTENCE_TEMP)
        unsupported("a temporary table cannot be the source of a model", "");
    if (on_nullable_side((Node *)query->jointree, scope.outer_rti, false))
        unsupported("the source is on the nullable side of an outer join",
                    "Make the source the preserved side (FROM source LEFT JOIN dimension).");
    require_row_wise_scope(scope);
    spec.source_only = !source_rte->inh;

    spec.batch_column = input.batch_column;
    if (out.batch_attnum != InvalidAttrNumber) {
        const AttrNumber att = out.batch_attnum;
        Oid typ = InvalidOid, coll = InvalidOid;
        int32 typmod = -1;
        pg_call([source, att, &typ, &typmod, &coll] {
            get_atttypetypmodcoll(source, att, &typ, &typmod, &coll);
        });
        CatalogOnlySearchPath path;
        spec.batch_type = type_name(typ, typmod, InvalidOid);
        out.batch_nullable = !pg_call([source, att] {
            HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(source), Int16GetDatum(att));
            bool notnull = HeapTupleIsValid(tup) && ((Form_pg_attribute)GETSTRUCT(tup))->attnotnull;
            if (HeapTupleIsValid(tup)) ReleaseSysCache(tup);
            return notnull;
        });
    }
    if (input.window_column) {
        const char *wc = input.window_column->c_str();
        out.window_attnum = pg_call([source, wc] { return get_attnum(source, wc); });
        if (out.window_attnum == InvalidAttrNumber)
            throw UserError(
                ERRCODE_UNDEFINED_COLUMN,
                "incmodel: the source has no window column \"" + *input.window_column + "\"", "",
                "window_column names the event-time column the lookback prunes on "
                "(e.g. collector_tstamp).");
        const AttrNumber att = out.window_attnum;
        Oid typ = pg_call([source, att] { return get_atttype(source, att); });
        if (typ != TIMESTAMPOID && typ != TIMESTAMPTZOID && typ != DATEOID)
            throw UserError(ERRCODE_DATATYPE_MISMATCH,
                            "incmodel: window column \"" + *input.window_column +
                                "\" must be a timestamp, timestamptz or date",
                            "", "");
        spec.window_column = input.window_column;
    }

    // --- output columns --------------------------------------------------------------------------
    ListCell *lc;
    std::set<std::string> names;
    int position = 0;
    {
        CatalogOnlySearchPath path;
        foreach (lc, query->targetList) {
            auto *tle = static_cast<TargetEntry *>(lfirst(lc));
            if (tle->resjunk) continue;
            ++position;
            if (tle->resname == nullptr || std::strcmp(tle->resname, "?column?") == 0)
                throw UserError(
                    ERRCODE_INVALID_NAME,
                    "incmodel: output column " + std::to_string(position) + " has no name", "",
                    "Give every output column a name with AS.");
            if (std::strncmp(tle->resname, "_incmodel", 9) == 0)
                throw UserError(
                    ERRCODE_RESERVED_NAME,
                    std::string("incmodel: column name \"") + tle->resname + "\" is reserved", "",
                    "Names starting with _incmodel are reserved for incmodel.");
            if (!names.insert(tle->resname).second)
                throw UserError(ERRCODE_DUPLICATE_COLUMN,
                                std::string("incmodel: output column \"") + tle->resname +
                                    "\" appears more than once",
                                "", "Give each output column a distinct name with AS.");
            Node *expr = (Node *)tle->expr;
            Oid typ = pg_call([expr] { return exprType(expr); });
            int32 typmod = pg_call([expr] { return exprTypmod(expr); });
            Oid coll = pg_call([expr] { return exprCollation(expr); });
            if (typ == UNKNOWNOID) typ = TEXTOID;
            spec.outputs.push_back({tle->resname, type_name(typ, typmod, coll)});
        }
    }

    render_canonical(query, source, spec, out.canonical_query);

    // --- the refresh key: GROUP BY parts computed from the source alone, or equal to such a ----
    // --- part in every row (a dimension's copy of the key) ---------------------------------------
    struct SourceKey {
        std::string name;
        Node *expr;     // over the source as scope.reader sees it
        bool promoted;  // a dimension's expression standing for expr
    };
    std::vector<SourceKey> source_keys;
    std::optional<std::pair<std::string, core::KeyThroughDimension>> through;
    KeyEquivalence near;  // why a dimension's GROUP BY expression is no key, when it nearly is
    if (input.event_key) {
        foreach (lc, query->targetList) {
            auto *tle = static_cast<TargetEntry *>(lfirst(lc));
            if (tle->resjunk || tle->resname == nullptr || *input.event_key != tle->resname)
                continue;
            auto *var = reinterpret_cast<Var *>(tle->expr);
            if (!IsA(tle->expr, Var) || var->varno != scope.source_rti || var->varlevelsup != 0)
                break;
            const AttrNumber att = var->varattno;
            const char *col = pg_call([source, att] { return get_attname(source, att, false); });
            if (*input.event_key != col) break;
            source_keys.push_back({tle->resname, reinterpret_cast<Node *>(tle->expr), false});
            spec.unique_columns.push_back(tle->resname);
        }
        if (source_keys.empty())
            throw UserError(ERRCODE_UNDEFINED_COLUMN,
                            "incmodel: event_key \"" + *input.event_key +
                                "\" is not an output column taken as is from the source's column "
                                "of that name",
                            "",
                            "Select the event id unchanged, e.g. SELECT e.event_id, ... FROM "
                            "atomic.events e.");
    }
    if (!input.event_key) {
        foreach (lc, query->groupClause) {
            auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
            TargetEntry *tle =
                pg_call([sgc, query] { return get_sortgroupclause_tle(sgc, query->targetList); });
            if (tle->resjunk)
                throw UserError(ERRCODE_GROUPING_ERROR,
                                "incmodel: every GROUP BY expression must appear in the select "
                                "list",
                                "The target needs every grouping value to tell its rows apart.",
                                "Add the GROUP BY expression to the select list with AS name.");
            spec.unique_columns.push_back(tle->resname);
            bool promoted = false;
            if (Node *expr = key_source_expr(scope, tle, sgc->eqop, &promoted, &near)) {
                source_keys.push_back({tle->resname, expr, promoted});
            } else if (!through && !input.daily && !OidIsValid(input.source_relid)) {
                if (auto k = key_through_dimension(scope, tle, spec.source_alias, source))
                    through = {tle->resname, *k};
            }
        }
    }
    // No key of the source's own: a key read through a dimension (identity stitching) is the
    // refresh key, alone.
    if (source_keys.empty() && through &&
        (input.unique_key.empty() ||
         (input.unique_key.size() == 1 && input.unique_key[0] == through->first))) {
        std::string type;
        for (const auto &o : spec.outputs)
            if (o.name == through->first) type = o.type;
        core::KeyPart part{through->first, core::through_dimension_expr(through->second), type,
                           key_equality(query, through->first)};
        part.through = through->second;
        spec.keys.push_back(std::move(part));
        spec.source_filter =
            source_filter(scope.reader, scope.source_rti, spec.source_alias, source);
        return out;
    }
    if (!input.unique_key.empty()) {
        std::vector<SourceKey> chosen;
        for (const auto &col : input.unique_key) {
            auto it = std::find_if(source_keys.begin(), source_keys.end(),
                                   [&](const auto &k) { return k.name == col; });
            if (it == source_keys.end())
                throw UserError(ERRCODE_GROUPING_ERROR,
                                "incmodel: unique_key column \"" + col +
                                    "\" is not a GROUP BY expression computed from the source",
                                "",
                                "List output columns whose GROUP BY expression reads only "
                                "the source relation (or a dimension column an inner join "
                                "equates to one).");
            chosen.push_back(*it);
        }
        source_keys = chosen;
    }
    if (source_keys.empty() && !near.detail.empty())
        throw UserError(ERRCODE_GROUPING_ERROR,
                        "incmodel: no GROUP BY expression is computed from the source alone",
                        near.detail, near.hint);
    if (source_keys.empty())
        throw UserError(ERRCODE_GROUPING_ERROR,
                        "incmodel: no GROUP BY expression is computed from the source alone",
                        "The refresh key must be computable from the events themselves.",
                        "Group by a column of the source relation, such as the session id, or by "
                        "a dimension column an inner join equates to one (JOIN dims.users u ON "
                        "u.user_id = e.user_id ... GROUP BY u.user_id).");
    std::vector<Node *> key_exprs;
    for (auto &k : source_keys) {
        std::string type;
        for (const auto &o : spec.outputs)
            if (o.name == k.name) type = o.type;
        if (k.promoted) {
            Node *expr = k.expr;
            const Oid typ = pg_call([expr] { return exprType(expr); });
            const int32 typmod = pg_call([expr] { return exprTypmod(expr); });
            const Oid coll = pg_call([expr] { return exprCollation(expr); });
            CatalogOnlySearchPath path;
            type = type_name(typ, typmod, coll);
        }
        if (IsA(k.expr, Var) && out.first_key_attnum == 0 && spec.keys.empty())
            out.first_key_attnum = reinterpret_cast<Var *>(k.expr)->varattno;
        spec.keys.push_back({k.name,
                             deparse_over(k.expr, scope.source_rti, spec.source_alias, source),
                             type, key_equality(query, k.name)});
        if (input.daily) {
            // create_model pins the caller's TimeZone for the model's runs
            const std::string tz =
                pg_call([] { return GetConfigOptionByName("TimeZone", nullptr, false); });
            spec.keys.back().day_range = day_range_of(k.expr, scope.source_rti, source, tz);
        }
        key_exprs.push_back(k.expr);
        if (OidIsValid(input.source_relid)) {
            require_function_of_input_keys(k.expr, k.name, scope.source_rti, source,
                                           input.input_keys);
            out.feature_key_exprs.push_back(
                deparse_over(k.expr, scope.source_rti, kFeatureInputAlias, source));
        }
    }
    require_within_keys(scope, key_exprs);
    spec.source_filter = source_filter(scope.reader, scope.source_rti, spec.source_alias, source);
    return out;
}

std::string query_tree_of(const std::string &canonical_query) {
    const char *sql = canonical_query.c_str();
    List *raw = pg_call([sql] { return raw_parser(sql, RAW_PARSE_DEFAULT); });
    RawStmt *rawstmt = linitial_node(RawStmt, raw);
    Query *query = pg_call(
        [rawstmt, sql] { return parse_analyze_fixedparams(rawstmt, sql, nullptr, 0, nullptr); });
    return pg_call([query] { return nodeToString(query); });
}

namespace {
// render_model_query() without the translation of PostgreSQL errors.
RenderedQuery render_tree(const std::string &model, const std::string &tree, Oid source,
                          const std::vector<std::string> &key_names, const std::string &timezone);
}  // namespace

RenderedQuery render_model_query(const std::string &model, const std::string &tree, Oid source,
                                 const std::vector<std::string> &key_names,
                                 const std::string &timezone) {
    try {
        return render_tree(model, tree, source, key_names, timezone);
    } catch (const PgException &e) {
        // Something else the query refers to by OID (a type, an operator) is gone.
        throw UserError(
            e.sqlerrcode(),
            "incmodel: the query of model \"" + model + "\" can no longer be rendered: " + e.what(),
            "An object it refers to was dropped after the model was created.",
            "Drop the model with incmodel.drop_model() and create it again.");
    }
}

namespace {

RenderedQuery render_tree(const std::string &model, const std::string &tree, Oid source,
                          const std::vector<std::string> &key_names, const std::string &timezone) {
    const char *text = tree.c_str();
    Node *node = static_cast<Node *>(pg_call([text] { return stringToNode(text); }));
    if (node == nullptr || !IsA(node, Query))
        throw std::runtime_error("incmodel: the stored query tree of model \"" + model +
                                 "\" is not a query");
    Query *query = reinterpret_cast<Query *>(node);
    require_tree_references(model, query);
    std::vector<SourceScope> found =
        find_sources(query, [source](Oid relid) { return relid == source; });
    if (found.size() != 1)
        throw UserError(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "incmodel: the stored query of model \"" + model + "\" does not read its source", "",
            "Drop the model with incmodel.drop_model() and create it again.");
    const SourceScope &scope = found.front();
    RenderedQuery out;
    render_canonical(query, source, out.spec, out.canonical_query);
    for (const auto &name : key_names) {
        Node *expr = nullptr;
        ListCell *lc;
        foreach (lc, query->targetList) {
            auto *tle = static_cast<TargetEntry *>(lfirst(lc));
            if (tle->resjunk || !tle->resname || name != tle->resname) continue;
            bool promoted = false;
            expr = key_source_expr(scope, tle, group_eqop(query, tle), &promoted, nullptr);
        }
        std::optional<core::KeyThroughDimension> through;
        if (expr == nullptr && key_names.size() == 1) {
            foreach (lc, query->targetList) {
                auto *tle = static_cast<TargetEntry *>(lfirst(lc));
                if (tle->resjunk || !tle->resname || name != tle->resname) continue;
                through = key_through_dimension(scope, tle, out.spec.source_alias, source);
            }
        }
        if (expr == nullptr && !through)
            throw std::runtime_error("incmodel: key column \"" + name +
                                     "\" is not a key of the stored query");
        out.key_exprs.push_back(
            through ? core::through_dimension_expr(*through)
                    : deparse_over(expr, scope.source_rti, out.spec.source_alias, source));
        out.key_through.push_back(through);
        out.key_day_ranges.push_back(
            through ? std::nullopt : day_range_of(expr, scope.source_rti, source, timezone));
        out.key_equalities.push_back(key_equality(query, name));
    }
    out.spec.source_filter =
        source_filter(scope.reader, scope.source_rti, out.spec.source_alias, source);
    return out;
}

}  // namespace

void verify_output_types(const std::string &model, const std::string &canonical_query,
                         const std::vector<core::OutputColumn> &outputs) {
    const char *sql = canonical_query.c_str();
    List *raw = pg_call([sql] { return raw_parser(sql, RAW_PARSE_DEFAULT); });
    RawStmt *rawstmt = linitial_node(RawStmt, raw);
    Query *query = pg_call(
        [rawstmt, sql] { return parse_analyze_fixedparams(rawstmt, sql, nullptr, 0, nullptr); });
    CatalogOnlySearchPath path;
    std::vector<std::string> changed;
    size_t i = 0;
    ListCell *lc;
    foreach (lc, query->targetList) {
        auto *tle = static_cast<TargetEntry *>(lfirst(lc));
        if (tle->resjunk) continue;
        Node *expr = (Node *)tle->expr;
        Oid typ = pg_call([expr] { return exprType(expr); });
        int32 typmod = pg_call([expr] { return exprTypmod(expr); });
        if (typ == UNKNOWNOID) typ = TEXTOID;
        std::string now = type_name(typ, typmod, InvalidOid);
        if (i < outputs.size()) {
            std::string was = core::without_collation(outputs[i].type);
            if (was != now)
                changed.push_back("column \"" + outputs[i].name + "\" was " + was + ", is now " +
                                  now);
        }
        ++i;
    }
    if (i != outputs.size()) changed.push_back("the number of output columns changed");
    if (!changed.empty())
        throw UserError(ERRCODE_DATATYPE_MISMATCH,
                        "incmodel: the query of model \"" + model +
                            "\" no longer gives the columns its target was built with",
                        core::join(changed, "; ") + ".",
                        "A source column changed type. Drop the model with incmodel.drop_model() "
                        "and create it again (or alter the target to match and rebuild).");
}

// A refresh looks events up by batch, by key and (with a window) by event time; without the
// indexes it scans the source, so say which CREATE INDEX statements would help.
void notice_missing_indexes(const AnalyzedQuery &a) {
    auto has_index_on = [&](AttrNumber att) { return has_index_led_by(a.source_oid, att); };
    const std::string src =
        quote_ident(a.spec.source.schema) + "." + quote_ident(a.spec.source.name);
    auto notice = [&](const std::string &what, const std::string &cols) {
        std::string msg =
            "incmodel: source " + src + " has no index on " + what + "; refreshes will scan it";
        std::string hint = "CREATE INDEX ON " + src + " (" + cols + ");";
        const char *m = msg.c_str();
        const char *h = hint.c_str();
        pg_call([m, h] { ereport(NOTICE, (errmsg("%s", m), errhint("%s", h))); });
    };
    if (a.batch_attnum != InvalidAttrNumber && !has_index_on(a.batch_attnum))
        notice("the batch column " + quote_ident(a.spec.batch_column),
               quote_ident(a.spec.batch_column));
    if (a.first_key_attnum != 0 && !has_index_on(a.first_key_attnum)) {
        const Oid rel = a.source_oid;
        const AttrNumber att = a.first_key_attnum;
        std::string col = pg_call([rel, att] { return get_attname(rel, att, false); });
        notice("the key column " + quote_ident(col), quote_ident(col));
    }
    if (a.spec.window_column && !has_index_on(a.window_attnum))
        notice("the window column " + quote_ident(*a.spec.window_column),
               quote_ident(*a.spec.window_column));
}

}  // namespace incmodel::pg
