#include "pg/analysis/source_scope.hpp"

#include "core/sql_text.hpp"
#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

namespace {

// The CTE a top-level RTE_CTE entry reads (nullptr for another level's CTE).
CommonTableExpr *cte_of(Query *query, RangeTblEntry *rte) {
    if (rte->rtekind != RTE_CTE || rte->ctelevelsup != 0) return nullptr;
    ListCell *lc;
    foreach (lc, query->cteList) {
        auto *cte = static_cast<CommonTableExpr *>(lfirst(lc));
        if (std::string(cte->ctename) == rte->ctename) return cte;
    }
    return nullptr;
}

// Collects the OIDs of every relation a query reads, at every level (called from C).
bool relids_walker(Node *node, void *ctx) {
    auto *relids = static_cast<List **>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (rte->rtekind == RTE_RELATION) *relids = lappend_oid(*relids, rte->relid);
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(relids_walker), ctx,
                                 QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(relids_walker), ctx);
}

// An expression of the reader as SQL over the source's name in it, for errors and hints.
std::string sql_of(const SourceScope &s, Node *expr) {
    if (!reads_only(expr, s.source_rti)) return "(an expression over other relations)";
    RangeTblEntry *rte = s.source_rte();
    const char *alias = rte->eref->aliasname;
    const Oid relid = rte->relid;
    const int rti = s.source_rti;
    const char *sql = pg_call([expr, alias, relid, rti] {
        Node *copy = static_cast<Node *>(copyObjectImpl(expr));
        ChangeVarNodes(copy, rti, 1, 0);
        return deparse_expression(copy, deparse_context_for(alias, relid), true, false);
    });
    return sql;
}

// The expressions of a list of SortGroupClauses (PARTITION BY, DISTINCT [ON]) of the reader.
std::vector<Node *> clause_exprs(const SourceScope &s, List *clauses) {
    std::vector<Node *> out;
    ListCell *lc;
    foreach (lc, clauses) {
        auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
        List *tlist = s.reader->targetList;
        out.push_back(pg_call([sgc, tlist] { return get_sortgroupclause_expr(sgc, tlist); }));
    }
    return out;
}

// The keys that none of exprs is (compared as trees: the same expression of the same columns).
std::vector<Node *> missing_keys(const std::vector<Node *> &keys,
                                 const std::vector<Node *> &exprs) {
    std::vector<Node *> missing;
    for (Node *k : keys) {
        bool found = false;
        for (Node *e : exprs)
            if (pg_call([k, e] { return equal(k, e); })) found = true;
        if (!found) missing.push_back(k);
    }
    return missing;
}

// "a, b" of expressions as SQL.
std::string sql_list(const SourceScope &s, const std::vector<Node *> &exprs) {
    std::vector<std::string> parts;
    for (Node *e : exprs) parts.push_back(sql_of(s, e));
    return core::join(parts, ", ");
}

// The keys, then the other expressions of a PARTITION BY or DISTINCT ON: the supported form.
std::string with_keys_first(const SourceScope &s, const std::vector<Node *> &keys,
                            const std::vector<Node *> &parts) {
    std::vector<Node *> all = keys;
    for (Node *p : missing_keys(parts, keys)) all.push_back(p);
    return sql_list(s, all);
}

}  // namespace

RangeTblEntry *SourceScope::source_rte() const {
    return static_cast<RangeTblEntry *>(list_nth(reader->rtable, source_rti - 1));
}

// The top level first, so a query whose FROM reads the source directly is understood as before
// whatever its subqueries read.
std::vector<SourceScope> find_sources(Query *query, const std::function<bool(Oid)> &is_source) {
    std::vector<SourceScope> out;
    int rti = 0;
    ListCell *lc;
    foreach (lc, query->rtable) {
        ++rti;
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->rtekind == RTE_RELATION && is_source(rte->relid))
            out.push_back({query, rti, query, rti, ""});
    }
    if (!out.empty()) return out;
    std::vector<std::string> ctes_seen;
    rti = 0;
    foreach (lc, query->rtable) {
        ++rti;
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        Query *inner = nullptr;
        std::string name;
        if (rte->rtekind == RTE_SUBQUERY) {
            inner = rte->subquery;
            name = rte->eref->aliasname;
        } else if (CommonTableExpr *cte = cte_of(query, rte)) {
            name = cte->ctename;
            bool seen = false;
            for (const auto &n : ctes_seen) seen = seen || n == name;
            if (seen) continue;  // a CTE read twice is refused by require_row_wise_scope()
            ctes_seen.push_back(name);
            if (IsA(cte->ctequery, Query)) inner = reinterpret_cast<Query *>(cte->ctequery);
        }
        if (inner == nullptr) continue;
        int irti = 0;
        ListCell *ic;
        foreach (ic, inner->rtable) {
            ++irti;
            auto *irte = static_cast<RangeTblEntry *>(lfirst(ic));
            if (irte->rtekind == RTE_RELATION && is_source(irte->relid))
                out.push_back({query, rti, inner, irti, name});
        }
    }
    return out;
}

bool reads_source_anywhere(Query *query, const std::function<bool(Oid)> &is_source) {
    List *relids = NIL;
    pg_call([query, &relids] {
        (void)query_tree_walker(query, as_walker(relids_walker), &relids, QTW_EXAMINE_RTES_BEFORE);
    });
    ListCell *lc;
    foreach (lc, relids)
        if (is_source(lfirst_oid(lc))) return true;
    return false;
}

// What mixes rows of several keys in any case: the subquery must map events to rows one by one,
// apart from the row comparisons require_within_keys() checks.
void require_row_wise_scope(const SourceScope &s) {
    if (!s.nested()) return;
    auto *outer = static_cast<RangeTblEntry *>(list_nth(s.top->rtable, s.outer_rti - 1));
    const std::string in = " in \"" + s.container + "\", the subquery over the source,";
    const std::string row_wise =
        "The subquery or CTE over the source may filter rows, compute columns and deduplicate "
        "within the refresh key (ROW_NUMBER() OVER (PARTITION BY key, event_id ...), DISTINCT "
        "ON (key, event_id)); aggregate in the outer query.";
    if (outer->lateral)
        unsupported("a LATERAL subquery over the source is not supported",
                    "\"" + s.container +
                        "\" reads the source once per row of another relation of the FROM clause.",
                    "Read the source in a plain subquery or CTE of the FROM clause.");
    if (CommonTableExpr *cte = cte_of(s.top, outer)) {
        if (cte->cterecursive)
            unsupported("a recursive CTE over the source is not supported",
                        "WITH RECURSIVE \"" + s.container + "\" reads the source.", row_wise);
        if (cte->cterefcount != 1)
            unsupported("the CTE over the source is read more than once",
                        "\"" + s.container + "\" is read " + std::to_string(cte->cterefcount) +
                            " times: its rows would be compared across keys (a self-join).",
                        "Read the CTE over the source once, in the FROM of the main query.");
    }
    Query *r = s.reader;
    if (r->limitCount || r->limitOffset)
        unsupported("LIMIT and OFFSET" + in + " are not supported",
                    "They keep rows by their position among all events: a refresh reads only "
                    "the touched keys' events.",
                    row_wise);
    if (r->groupClause || r->groupingSets || r->hasAggs || r->havingQual)
        unsupported("aggregation" + in + " is not supported",
                    "GROUP BY and aggregates in \"" + s.container +
                        "\" would have to be recomputed by its own key.",
                    row_wise);
    if (r->hasTargetSRFs)
        unsupported("set-returning functions" + in + " are not supported",
                    "Its select list turns an event into several rows.", row_wise);
    if (r->rowMarks || r->hasModifyingCTE)
        unsupported("FOR UPDATE/SHARE and data-modifying WITH" + in + " are not supported",
                    "A refresh only reads the source.", row_wise);
    if (on_nullable_side(reinterpret_cast<Node *>(r->jointree), s.source_rti, false))
        unsupported(
            "the source is on the nullable side of an outer join in \"" + s.container +
                "\", the subquery over it",
            "Rows of the other side without a matching event give NULL source columns, which no "
            "event's key accounts for.",
            "Make the source the preserved side (FROM source LEFT JOIN dimension).");
}

// A window partition or DISTINCT [ON] that includes every key expression compares only rows of
// one key: the touched keys' events, all of them, give their rows exactly.
void require_within_keys(const SourceScope &s, const std::vector<Node *> &keys) {
    if (!s.nested()) return;
    ListCell *lc;
    foreach (lc, s.reader->windowClause) {
        auto *wc = static_cast<WindowClause *>(lfirst(lc));
        std::vector<Node *> parts = clause_exprs(s, wc->partitionClause);
        std::vector<Node *> missing = missing_keys(keys, parts);
        if (missing.empty()) continue;
        const std::string partition =
            parts.empty() ? "Without PARTITION BY it" : "Its PARTITION BY " + sql_list(s, parts);
        throw UserError(
            ERRCODE_FEATURE_NOT_SUPPORTED,
            "incmodel: the window in \"" + s.container +
                "\", the subquery over the source, is not partitioned by the refresh key",
            partition + " compares events of different values of " + sql_list(s, missing) +
                ": a refresh reads only the touched keys' events, so its window would see fewer "
                "rows than a rebuild's.",
            "Partition by the key as well: PARTITION BY " + with_keys_first(s, keys, parts) +
                " (a dedupe within the key, e.g. ROW_NUMBER() OVER (PARTITION BY "
                "domain_sessionid, event_id ORDER BY collector_tstamp)).");
    }
    if (s.reader->distinctClause == NIL) return;
    std::vector<Node *> parts = clause_exprs(s, s.reader->distinctClause);
    std::vector<Node *> missing = missing_keys(keys, parts);
    if (missing.empty()) return;
    const bool on = s.reader->hasDistinctOn;
    const std::string what = on ? "DISTINCT ON (" + sql_list(s, parts) + ")" : "DISTINCT";
    const std::string on_list = on ? with_keys_first(s, keys, parts) : sql_list(s, keys);
    throw UserError(
        ERRCODE_FEATURE_NOT_SUPPORTED,
        "incmodel: " + std::string(on ? "DISTINCT ON" : "DISTINCT") + " in \"" + s.container +
            "\", the subquery over the source, does not include the refresh key",
        what + " compares events of different values of " + sql_list(s, missing) +
            ": a refresh reads only the touched keys' events, so it could keep another row than "
            "a rebuild.",
        "Deduplicate within the key: DISTINCT ON (" + on_list + ") ... ORDER BY " + on_list +
            ", collector_tstamp.");
}

Node *to_source(const SourceScope &s, Node *expr) {
    Node *flat = without_join_aliases(s.top, expr);
    if (!reads_only(flat, s.outer_rti)) return nullptr;
    if (!s.nested()) return flat;
    auto *outer = static_cast<RangeTblEntry *>(list_nth(s.top->rtable, s.outer_rti - 1));
    List *tlist = s.reader->targetList;
    const int rti = s.outer_rti;
    Node *inner = pg_call([flat, outer, tlist, rti] {
        bool sublinks = false;
        return ReplaceVarsFromTargetList(static_cast<Node *>(copyObjectImpl(flat)), rti, 0, outer,
                                         tlist, REPLACEVARS_REPORT_ERROR, 0, &sublinks);
    });
    inner = without_join_aliases(s.reader, inner);
    return reads_only(inner, s.source_rti) ? inner : nullptr;
}

}  // namespace incmodel::pg
