#include "pg/analysis/stitched_keys.hpp"

#include "pg/analysis/dimension_routes.hpp"
#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "utils/typcache.h"
}

namespace incmodel::pg {

namespace {

// Replaces Vars of one range table entry: those of column `attno` by a copy of `with` (attno
// 0: every column, each by a NULL of its type when `with` is nullptr). Plain C.
struct VarReplacement {
    int varno;
    AttrNumber attno;
    Node *with;
};

Node *replace_vars_mutator(Node *node, void *ctx) {
    if (node == nullptr) return nullptr;
    auto *r = static_cast<VarReplacement *>(ctx);
    if (IsA(node, Var)) {
        auto *v = reinterpret_cast<Var *>(node);
        if (v->varlevelsup == 0 && v->varno == r->varno &&
            (r->attno == 0 || v->varattno == r->attno)) {
            if (r->with != nullptr) return static_cast<Node *>(copyObjectImpl(r->with));
            return reinterpret_cast<Node *>(makeNullConst(v->vartype, v->vartypmod, v->varcollid));
        }
        return node;
    }
    return expression_tree_mutator(node, reinterpret_cast<Node *(*)()>(replace_vars_mutator), ctx);
}

Node *replaced(Node *expr, int varno, AttrNumber attno, Node *with) {
    VarReplacement r{varno, attno, with};
    return pg_call(
        [expr, &r] { return replace_vars_mutator(static_cast<Node *>(copyObjectImpl(expr)), &r); });
}

// Types whose equality is identity: the dimension's value can stand for the source's.
bool equality_is_identity(Oid type, Oid collation, Oid opno) {
    switch (type) {
        case TEXTOID:
        case VARCHAROID:
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case UUIDOID:
            break;
        default:
            return false;
    }
    const bool deterministic = !OidIsValid(collation) || pg_call([collation] {
        return collation == DEFAULT_COLLATION_OID || collation == C_COLLATION_OID ||
               collation == POSIX_COLLATION_OID || get_collation_isdeterministic(collation);
    });
    const Oid eq = pg_call([type] { return lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr; });
    return deterministic && eq == opno;
}

// Whether a valid, non-partial unique index of relid covers exactly column attno.
bool unique_on(Oid relid, AttrNumber attno) {
    return pg_call([relid, attno] {
        Relation rel = table_open(relid, AccessShareLock);
        List *indexes = RelationGetIndexList(rel);
        bool found = false;
        ListCell *lc;
        foreach (lc, indexes) {
            HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
            if (!HeapTupleIsValid(tup)) continue;
            auto *ix = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
            bool partial = !heap_attisnull(tup, Anum_pg_index_indpred, nullptr);
            if (ix->indisunique && ix->indisvalid && ix->indnkeyatts == 1 &&
                ix->indkey.values[0] == attno && !partial)
                found = true;
            ReleaseSysCache(tup);
        }
        table_close(rel, AccessShareLock);
        return found;
    });
}

// The join that reads range table entry rti as one of its two sides (nullptr: none, e.g. an entry
// of FROM's list, an inner join by WHERE).
JoinExpr *join_reading(Node *node, int rti) {
    if (node == nullptr) return nullptr;
    if (IsA(node, FromExpr)) {
        ListCell *lc;
        foreach (lc, reinterpret_cast<FromExpr *>(node)->fromlist)
            if (JoinExpr *j = join_reading(static_cast<Node *>(lfirst(lc)), rti)) return j;
        return nullptr;
    }
    if (!IsA(node, JoinExpr)) return nullptr;
    auto *j = reinterpret_cast<JoinExpr *>(node);
    for (Node *side : {j->larg, j->rarg})
        if (IsA(side, RangeTblRef) && reinterpret_cast<RangeTblRef *>(side)->rtindex == rti)
            return j;
    if (JoinExpr *inner = join_reading(j->larg, rti)) return inner;
    return join_reading(j->rarg, rti);
}

// A row's match is the dimension row its equality finds: true when the dimension is joined
// inner (other conditions only drop rows), or by an outer join whose ON is that equality alone
// (another condition there would leave a row with a dimension row unmatched). The dimension must
// be one side of that join itself, on its nullable side.
bool match_is_the_equality(Query *query, int dim, int source_rti, const Equality &e) {
    if (on_nullable_side(reinterpret_cast<Node *>(query->jointree), source_rti, false))
        return false;
    JoinExpr *j = join_reading(reinterpret_cast<Node *>(query->jointree), dim);
    if (j == nullptr || j->jointype == JOIN_INNER)
        return !on_nullable_side(reinterpret_cast<Node *>(query->jointree), dim, false);
    const bool dim_right =
        IsA(j->rarg, RangeTblRef) && reinterpret_cast<RangeTblRef *>(j->rarg)->rtindex == dim;
    if (j->jointype != (dim_right ? JOIN_LEFT : JOIN_RIGHT)) return false;
    Node *quals = without_join_aliases(query, j->quals);
    List *parts = pg_call([quals] { return make_ands_implicit(reinterpret_cast<Expr *>(quals)); });
    if (list_length(parts) != 1) return false;
    Node *only = static_cast<Node *>(linitial(parts));
    Node *op = reinterpret_cast<Node *>(e.op);
    return pg_call([only, op] { return equal(only, op); });
}

}  // namespace

std::optional<core::KeyThroughDimension> key_through_dimension(const SourceScope &scope,
                                                               TargetEntry *tle,
                                                               const std::string &source_alias,
                                                               Oid source) {
    Query *query = scope.top;
    Node *key = without_join_aliases(query, reinterpret_cast<Node *>(tle->expr));
    VarUse use{0, false, false};
    pg_call([key, &use] { (void)var_use_walker(key, &use); });
    const uint64 src_bit = (uint64)1 << scope.outer_rti;
    if (use.far || use.complex) return std::nullopt;
    const uint64 others = use.varnos & ~src_bit;
    if (others == 0 || (others & (others - 1)) != 0) return std::nullopt;
    int dim = 0;
    while ((others >> dim) != 1) ++dim;
    RangeTblEntry *drte = rte_of(query, dim);
    if (drte->rtekind != RTE_RELATION) return std::nullopt;

    for (const Equality &e : top_level_equalities(query)) {
        for (int side = 0; side < 2; ++side) {
            if (e.rti[side] != dim || e.rti[1 - side] != scope.outer_rti) continue;
            Node *dside = e.side[side], *sside = e.side[1 - side];
            if (!IsA(dside, Var) || !IsA(sside, Var)) continue;
            auto *dv = reinterpret_cast<Var *>(dside);
            auto *sv = reinterpret_cast<Var *>(sside);
            if (dv->vartype != sv->vartype || dv->varcollid != sv->varcollid) continue;
            if (!equality_is_identity(dv->vartype, dv->varcollid, e.op->opno)) continue;
            if (!unique_on(drte->relid, dv->varattno)) continue;
            if (!match_is_the_equality(query, dim, scope.outer_rti, e)) continue;
            // matched: the source's joined column is the dimension's; the key must then read the
            // dimension alone. unmatched: the dimension's columns are NULL.
            Node *matched = replaced(key, scope.outer_rti, sv->varattno, dside);
            if (!reads_only(matched, dim)) continue;
            Node *unmatched = replaced(key, dim, 0, nullptr);
            if (!reads_only(unmatched, scope.outer_rti) &&
                !pg_call([unmatched] { return !contain_var_clause(unmatched); }))
                continue;
            Node *unmatched_dim = replaced(unmatched, scope.outer_rti, sv->varattno, dside);
            // The source's side as the reader of the source sees it (a dedupe subquery's column
            // is the source's column); its windows must partition by it (require_within_keys).
            Node *source_side = to_source(scope, sside);
            Node *unmatched_source = pg_call([unmatched] { return !contain_var_clause(unmatched); })
                                         ? unmatched
                                         : to_source(scope, unmatched);
            if (source_side == nullptr || unmatched_source == nullptr) continue;
            if (scope.nested()) require_within_keys(scope, {source_side});
            core::KeyThroughDimension k;
            k.relid = drte->relid;
            k.relation = relation_sql(drte);
            k.alias = alias_of(query, dim);
            k.column = deparse_over(dside, dim, drte->eref->aliasname, drte->relid);
            k.source_column = deparse_over(source_side, scope.source_rti, source_alias, source);
            k.op = operator_sql(e.op->opno);
            k.matched = deparse_over(matched, dim, drte->eref->aliasname, drte->relid);
            k.unmatched = deparse_over(unmatched_source, scope.source_rti, source_alias, source);
            k.unmatched_from_dimension =
                deparse_over(unmatched_dim, dim, drte->eref->aliasname, drte->relid);
            return k;
        }
    }
    return std::nullopt;
}

}  // namespace incmodel::pg
