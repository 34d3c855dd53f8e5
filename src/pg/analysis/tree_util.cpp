#include "pg/analysis/tree_util.hpp"

#include <exception>

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

CatalogOnlySearchPath::CatalogOnlySearchPath() {
    pg_call([] {
        OverrideSearchPath *path = GetOverrideSearchPath(CurrentMemoryContext);
        path->schemas = NIL;
        path->addCatalog = true;
        path->addTemp = false;
        PushOverrideSearchPath(path);
    });
}

CatalogOnlySearchPath::~CatalogOnlySearchPath() {
    if (std::uncaught_exceptions() == 0) pg_call([] { PopOverrideSearchPath(); });
}

namespace {

struct RelidCount {
    Oid relid;
    int count;
};

// Counts every reference to a relation anywhere in a query, nested queries included. Plain C.
bool count_relid_walker(Node *node, void *ctx) {
    auto *c = static_cast<RelidCount *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (rte->rtekind == RTE_RELATION && rte->relid == c->relid) c->count++;
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(count_relid_walker),
                                 ctx, QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(count_relid_walker), ctx);
}

}  // namespace

// The source is refused when read twice; a dimension read twice has no single route.
int relation_references(Query *query, Oid relid) {
    RelidCount uses{relid, 0};
    pg_call([query, &uses] {
        (void)query_tree_walker(query, as_walker(count_relid_walker), &uses,
                                QTW_EXAMINE_RTES_BEFORE);
    });
    return uses.count;
}

std::string deparse_over(Node *expr, int rti, const std::string &alias, Oid relid) {
    CatalogOnlySearchPath path;
    const char *a = alias.c_str();
    const char *sql = pg_call([expr, rti, a, relid] {
        Node *copy = static_cast<Node *>(copyObjectImpl(expr));
        ChangeVarNodes(copy, rti, 1, 0);
        return deparse_expression(copy, deparse_context_for(a, relid), true, false);
    });
    return sql;
}

// One place for the 0A000 refusals of query shapes, so they all read alike.
void unsupported(const std::string &what, const std::string &hint) {
    throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED, "incmodel: " + what, "", hint);
}

void unsupported(const std::string &what, const std::string &detail, const std::string &hint) {
    throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED, "incmodel: " + what, detail, hint);
}

// Whether an expression reads only the source decides what is a key and what a source filter.
bool var_use_walker(Node *node, void *ctx) {
    auto *u = static_cast<VarUse *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, Var)) {
        Var *v = reinterpret_cast<Var *>(node);
        if (v->varlevelsup != 0 || v->varno >= 64)
            u->far = true;
        else
            u->varnos |= (uint64)1 << v->varno;
        return false;
    }
    if (IsA(node, SubLink) || IsA(node, Aggref) || IsA(node, GroupingFunc) ||
        IsA(node, WindowFunc)) {
        u->complex = true;
        return false;
    }
    return expression_tree_walker(node, as_walker(var_use_walker), ctx);
}

// The test behind "computed from the source alone".
bool reads_only(Node *expr, int rti) {
    if (rti <= 0 || rti >= 64) return false;
    VarUse use{0, false, false};
    pg_call([expr, &use] { (void)var_use_walker(expr, &use); });
    return use.varnos == ((uint64)1 << rti) && !use.far && !use.complex;
}

// An outer join's nullable side gives NULLs for rows it lacks: the source there is refused.
bool on_nullable_side(Node *node, int rti, bool nullable) {
    if (node == nullptr) return false;
    if (IsA(node, RangeTblRef))
        return nullable && reinterpret_cast<RangeTblRef *>(node)->rtindex == rti;
    if (IsA(node, FromExpr)) {
        ListCell *lc;
        foreach (lc, reinterpret_cast<FromExpr *>(node)->fromlist)
            if (on_nullable_side(static_cast<Node *>(lfirst(lc)), rti, nullable)) return true;
        return false;
    }
    if (IsA(node, JoinExpr)) {
        auto *j = reinterpret_cast<JoinExpr *>(node);
        bool left_nullable = nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL;
        bool right_nullable = nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL;
        return on_nullable_side(j->larg, rti, left_nullable) ||
               on_nullable_side(j->rarg, rti, right_nullable);
    }
    return false;
}

// GROUP BY uid after JOIN ... USING (uid) reads the join's merged column; what it stands for
// (the left column of an inner or left join) tells whether it is the source's.
Node *without_join_aliases(Query *query, Node *expr) {
    return pg_call([query, expr] { return flatten_join_alias_vars(query, expr); });
}

}  // namespace incmodel::pg
