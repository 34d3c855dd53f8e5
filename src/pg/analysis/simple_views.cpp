#include "pg/analysis/simple_views.hpp"

#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_class.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
}

namespace incmodel::pg {

namespace {

constexpr int kMaxDepth = 32;  // views nest; a deeper chain is not followed

// A view's query (a copy of its rule's action); *security_barrier says whether it is a
// security_barrier view. May ERROR: called through pg_call.
Query *view_query_of(Oid view, bool *security_barrier) {
    Relation rel = table_open(view, AccessShareLock);
    auto *out = static_cast<Query *>(copyObjectImpl(get_view_query(rel)));
    *security_barrier = RelationIsSecurityView(rel);
    table_close(rel, AccessShareLock);
    return out;
}

struct BehindCount {
    Oid relid;
    int count;
    int depth;
    Oid expanding;  // the view whose query is walked: its OLD and NEW entries name it
};

// Counts the entries reading c->relid in a query tree, descending into the views it reads.
// Plain C (called through pg_call): view_query_of may ERROR, nothing here has a destructor.
bool behind_walker(Node *node, void *ctx) {
    auto *c = static_cast<BehindCount *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (rte->rtekind != RTE_RELATION) return false;
        if (rte->relid == c->relid) {
            c->count++;
        } else if (rte->relid != c->expanding && c->depth < kMaxDepth &&
                   get_rel_relkind(rte->relid) == RELKIND_VIEW) {
            const Oid saved = c->expanding;
            c->expanding = rte->relid;
            c->depth++;
            bool barrier;
            Query *q = view_query_of(rte->relid, &barrier);
            (void)query_tree_walker(q, as_walker(behind_walker), ctx, QTW_EXAMINE_RTES_BEFORE);
            c->depth--;
            c->expanding = saved;
        }
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(behind_walker), ctx,
                                 QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(behind_walker), ctx);
}

// The uses of relid in one query tree (node: a Query or a range table entry), views expanded.
int uses_in(Node *node, Oid relid, Oid expanding) {
    BehindCount c{relid, 0, 0, expanding};
    pg_call([node, &c] { (void)behind_walker(node, &c); });
    return c.count;
}

// The CTE a top-level or nested CTE reference names (levels: the queries from the top down to
// the one holding the reference), or nullptr.
CommonTableExpr *cte_of(const std::vector<Query *> &levels, RangeTblEntry *rte) {
    if (rte->ctelevelsup >= levels.size()) return nullptr;
    Query *owner = levels[levels.size() - 1 - rte->ctelevelsup];
    ListCell *lc;
    foreach (lc, owner->cteList) {
        auto *cte = static_cast<CommonTableExpr *>(lfirst(lc));
        if (strcmp(cte->ctename, rte->ctename) == 0) return cte;
    }
    return nullptr;
}

// Why a level's query is not simple ("" when it is): one row of it per row of its FROM, no row
// compared with another, nothing that changes between two reads.
std::string not_simple(Query *q) {
    if (q->commandType != CMD_SELECT || q->utilityStmt != nullptr) return "is not a SELECT";
    if (q->hasAggs || q->groupClause != NIL || q->groupingSets != NIL || q->havingQual != nullptr)
        return "aggregates";
    if (q->distinctClause != NIL) return q->hasDistinctOn ? "has DISTINCT ON" : "has DISTINCT";
    if (q->hasWindowFuncs) return "has window functions";
    if (q->setOperations != nullptr) return "is a set operation (UNION, INTERSECT, EXCEPT)";
    if (q->limitCount != nullptr || q->limitOffset != nullptr) return "has LIMIT or OFFSET";
    if (q->hasTargetSRFs) return "returns sets in its select list";
    if (q->hasRecursive || q->hasModifyingCTE) return "has a recursive or data-modifying WITH";
    const bool volatile_ = pg_call([q] {
        return contain_volatile_functions(reinterpret_cast<Node *>(q->targetList)) ||
               contain_volatile_functions(q->jointree->quals);
    });
    if (volatile_) return "calls a volatile function";
    if (list_length(q->jointree->fromlist) != 1 ||
        !IsA(linitial(q->jointree->fromlist), RangeTblRef))
        return "reads more than one relation in its FROM";
    return "";
}

std::string qualified_name(Oid relid) {
    const char *name = pg_call([relid] {
        return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                          get_rel_name(relid));
    });
    return name;
}

}  // namespace

int relation_uses_behind_views(Query *query, Oid relid) {
    return uses_in(reinterpret_cast<Node *>(query), relid, InvalidOid);
}

int entry_reading(Query *query, Oid relid) {
    for (int rti = 1; rti <= list_length(query->rtable); ++rti) {
        auto *rte = static_cast<RangeTblEntry *>(list_nth(query->rtable, rti - 1));
        Node *inside = nullptr;
        Oid expanding = InvalidOid;
        if (rte->rtekind == RTE_RELATION && rte->relid != relid) {
            const Oid view = rte->relid;
            if (pg_call([view] { return get_rel_relkind(view); }) != RELKIND_VIEW) continue;
            bool barrier;
            inside = reinterpret_cast<Node *>(
                pg_call([view, &barrier] { return view_query_of(view, &barrier); }));
            expanding = view;
        } else if (rte->rtekind == RTE_SUBQUERY) {
            inside = reinterpret_cast<Node *>(rte->subquery);
        } else if (rte->rtekind == RTE_CTE) {
            CommonTableExpr *cte = cte_of({query}, rte);
            if (cte != nullptr) inside = cte->ctequery;
        }
        if (inside != nullptr && uses_in(inside, relid, expanding) > 0) return rti;
    }
    return 0;
}

ThroughChain chain_to(Query *query, int rti, Oid relid) {
    ThroughChain c;
    std::vector<Query *> levels{query};  // the queries from the top down
    std::vector<int> from;               // for levels[i + 1]: the entry of its FROM
    RangeTblEntry *rte = static_cast<RangeTblEntry *>(list_nth(query->rtable, rti - 1));
    for (int depth = 0;; ++depth) {
        if (rte->rtekind == RTE_RELATION && rte->relid == relid) break;
        if (depth == kMaxDepth) {
            c.reason = "nests views or subqueries too deeply";
            return c;
        }
        Query *q = nullptr;
        std::string name, reason;
        if (rte->rtekind == RTE_RELATION) {
            const Oid view = rte->relid;
            if (pg_call([view] { return get_rel_relkind(view); }) != RELKIND_VIEW) {
                c.reason = "reads it outside its FROM (in a sublink, say)";
                return c;
            }
            bool barrier = false;
            q = pg_call([view, &barrier] { return view_query_of(view, &barrier); });
            name = "view " + qualified_name(view);
            if (barrier) reason = "is a security_barrier view";
        } else if (rte->rtekind == RTE_SUBQUERY) {
            name = std::string("subquery ") + rte->eref->aliasname;
            q = rte->subquery;
            if (rte->lateral) reason = "is LATERAL";
        } else if (rte->rtekind == RTE_CTE) {
            name = std::string("CTE ") + rte->ctename;
            CommonTableExpr *cte = cte_of(levels, rte);
            if (cte == nullptr || !IsA(cte->ctequery, Query)) {
                reason = "is not a plain query";
            } else if (cte->cterecursive) {
                reason = "is recursive";
            } else if (cte->ctematerialized == CTEMaterializeAlways) {
                reason = "is MATERIALIZED";
            } else if (cte->cterefcount != 1) {
                reason = "is read more than once";
            } else {
                q = reinterpret_cast<Query *>(cte->ctequery);
            }
        } else {
            c.reason = "reads it in a function, VALUES list or join it cannot follow";
            return c;
        }
        c.via += (c.via.empty() ? "" : ", ") + name;
        if (reason.empty()) reason = not_simple(q);
        if (!reason.empty()) {
            c.reason = reason;
            return c;
        }
        const int next = reinterpret_cast<RangeTblRef *>(linitial(q->jointree->fromlist))->rtindex;
        levels.push_back(q);
        from.push_back(next);
        rte = static_cast<RangeTblEntry *>(list_nth(q->rtable, next - 1));
    }
    c.simple = true;
    // Each output column of the top-level entry, followed down the levels' select lists.
    const int columns = list_length(levels[1]->targetList);
    c.base_columns.assign(columns + 1, InvalidAttrNumber);
    for (int attno = 1; attno <= columns; ++attno) {
        AttrNumber a = static_cast<AttrNumber>(attno);
        for (size_t i = 1; i < levels.size() && a != InvalidAttrNumber; ++i) {
            TargetEntry *tle = get_tle_by_resno(levels[i]->targetList, a);
            Node *expr =
                tle != nullptr && !tle->resjunk ? reinterpret_cast<Node *>(tle->expr) : nullptr;
            while (expr != nullptr && IsA(expr, RelabelType))
                expr = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(expr)->arg);
            const Var *var =
                expr != nullptr && IsA(expr, Var) ? reinterpret_cast<Var *>(expr) : nullptr;
            a = var != nullptr && static_cast<int>(var->varno) == from[i - 1] &&
                        var->varlevelsup == 0 && var->varattno > 0
                    ? var->varattno
                    : InvalidAttrNumber;
        }
        c.base_columns[attno] = a;
    }
    return c;
}

namespace {

struct OverBase {
    int rti;
    Oid relid;
    const AttrNumber *columns;  // base_columns
    int ncolumns;
    bool failed;
    AttrNumber read[64];
    int nread;
};

// Replaces the entry's Vars by the base relation's columns. Plain C (called through pg_call).
Node *over_base_mutator(Node *node, void *ctx) {
    auto *c = static_cast<OverBase *>(ctx);
    if (node == nullptr) return nullptr;
    if (IsA(node, Var)) {
        auto *var = reinterpret_cast<Var *>(node);
        if (static_cast<int>(var->varno) != c->rti || var->varlevelsup != 0)
            return static_cast<Node *>(copyObjectImpl(node));
        const AttrNumber base = var->varattno > 0 && var->varattno < c->ncolumns
                                    ? c->columns[var->varattno]
                                    : InvalidAttrNumber;
        if (base == InvalidAttrNumber || c->nread == 64) {
            c->failed = true;
            return static_cast<Node *>(copyObjectImpl(node));
        }
        c->read[c->nread++] = base;
        Oid type, collation;
        int32 typmod;
        get_atttypetypmodcoll(c->relid, base, &type, &typmod, &collation);
        Var *plain = makeVar(var->varno, base, type, typmod, collation, 0);
        if (type == var->vartype && typmod == var->vartypmod && collation == var->varcollid)
            return reinterpret_cast<Node *>(plain);
        return reinterpret_cast<Node *>(makeRelabelType(reinterpret_cast<Expr *>(plain),
                                                        var->vartype, var->vartypmod,
                                                        var->varcollid, COERCE_IMPLICIT_CAST));
    }
    return expression_tree_mutator(node, reinterpret_cast<Node *(*)()>(over_base_mutator), ctx);
}

}  // namespace

Node *over_base(Node *expr, int rti, Oid relid, const ThroughChain &chain,
                std::vector<AttrNumber> *read) {
    OverBase c{
        rti, relid, chain.base_columns.data(), static_cast<int>(chain.base_columns.size()), false,
        {},  0};
    Node *out = pg_call([expr, &c] { return over_base_mutator(expr, &c); });
    if (c.failed) return nullptr;
    for (int i = 0; i < c.nread; ++i) read->push_back(c.read[i]);
    return out;
}

}  // namespace incmodel::pg
