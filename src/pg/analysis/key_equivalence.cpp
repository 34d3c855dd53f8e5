#include "pg/analysis/key_equivalence.hpp"

#include <vector>

#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

namespace {

// One AND part of a join condition or of WHERE, and whether it holds in every output row.
struct Qual {
    Node *expr;
    bool holds;
    const char *join;  // the join whose ON it is ("" for WHERE or an inner join)
};

const char *join_name(JoinType type) {
    switch (type) {
        case JOIN_LEFT:
            return "LEFT JOIN";
        case JOIN_RIGHT:
            return "RIGHT JOIN";
        case JOIN_FULL:
            return "FULL JOIN";
        default:
            return "";
    }
}

// Walks the join tree as on_nullable_side() does: a condition holds in the output when it is
// WHERE's or an inner join's, and not inside the nullable side of an outer join.
void collect_quals(Node *node, bool nullable, std::vector<Qual> &out) {
    if (node == nullptr) return;
    auto add = [&](Node *quals, bool holds, const char *join) {
        if (quals == nullptr) return;
        List *parts =
            pg_call([quals] { return make_ands_implicit(reinterpret_cast<Expr *>(quals)); });
        ListCell *lc;
        foreach (lc, parts) out.push_back({static_cast<Node *>(lfirst(lc)), holds, join});
    };
    if (IsA(node, FromExpr)) {
        auto *f = reinterpret_cast<FromExpr *>(node);
        add(f->quals, !nullable, "");
        ListCell *lc;
        foreach (lc, f->fromlist) collect_quals(static_cast<Node *>(lfirst(lc)), nullable, out);
    } else if (IsA(node, JoinExpr)) {
        auto *j = reinterpret_cast<JoinExpr *>(node);
        add(j->quals, !nullable && j->jointype == JOIN_INNER, join_name(j->jointype));
        collect_quals(j->larg, nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL,
                      out);
        collect_quals(j->rarg, nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL,
                      out);
    }
}

// An expression as SQL, for messages: deparsed when it reads one table of the query, alias.column
// for a column of a subquery or CTE, else a description.
std::string describe(Query *query, Node *expr) {
    for (int rti = 1; rti <= list_length(query->rtable) && rti < 64; ++rti) {
        auto *rte = static_cast<RangeTblEntry *>(list_nth(query->rtable, rti - 1));
        if (rte->rtekind != RTE_RELATION || !reads_only(expr, rti)) continue;
        const char *alias = rte->eref->aliasname;
        const Oid relid = rte->relid;
        const char *sql = pg_call([expr, alias, relid, rti] {
            Node *copy = static_cast<Node *>(copyObjectImpl(expr));
            ChangeVarNodes(copy, rti, 1, 0);
            return deparse_expression(copy, deparse_context_for(alias, relid), true, false);
        });
        return sql;
    }
    if (!IsA(expr, Var)) return "the expression";
    auto *v = reinterpret_cast<Var *>(expr);
    if (v->varlevelsup != 0 || v->varno < 1 || v->varno > list_length(query->rtable))
        return "the column";
    auto *rte = static_cast<RangeTblEntry *>(list_nth(query->rtable, v->varno - 1));
    std::string out = rte->eref->aliasname;
    if (v->varattno > 0 && v->varattno <= list_length(rte->eref->colnames))
        out += std::string(".") + strVal(list_nth(rte->eref->colnames, v->varattno - 1));
    return out;
}

std::string type_of(Node *expr) {
    const Oid type = pg_call([expr] { return exprType(expr); });
    const char *name = pg_call([type] { return format_type_be(type); });
    return name;
}

}  // namespace

KeyEquivalence source_equivalent(const SourceScope &s, Node *group_expr, Oid eqop) {
    KeyEquivalence out;
    Query *query = s.top;
    Node *group = without_join_aliases(query, group_expr);
    const Oid group_type = pg_call([group] { return exprType(group); });
    const Oid group_coll = pg_call([group] { return exprCollation(group); });
    std::vector<Qual> quals;
    collect_quals(reinterpret_cast<Node *>(query->jointree), false, quals);
    for (const Qual &q : quals) {
        Node *expr = without_join_aliases(query, q.expr);
        if (!IsA(expr, OpExpr) || list_length(reinterpret_cast<OpExpr *>(expr)->args) != 2)
            continue;
        auto *op = reinterpret_cast<OpExpr *>(expr);
        for (int side = 0; side < 2; ++side) {
            Node *mine = static_cast<Node *>(list_nth(op->args, side));
            Node *other = static_cast<Node *>(list_nth(op->args, 1 - side));
            // binary-compatible relabelings (varchar compared as text) are not part of the value
            while (IsA(mine, RelabelType))
                mine = (Node *)reinterpret_cast<RelabelType *>(mine)->arg;
            while (IsA(other, RelabelType))
                other = (Node *)reinterpret_cast<RelabelType *>(other)->arg;
            if (!pg_call([mine, group] { return equal(mine, group); })) continue;
            if (!reads_only(other, s.outer_rti)) continue;
            const std::string pair = describe(query, group) + " = " + describe(query, other);
            if (!q.holds) {
                out.detail = pair + " holds only where the " + std::string(q.join) +
                             " found a match: the other rows get NULL for " +
                             describe(query, group) +
                             " whatever their source value, so one group mixes many source keys.";
                out.hint = "Join the dimension with an inner JOIN, or group by " +
                           describe(query, other) + ", the source's column.";
                continue;
            }
            const Oid other_type = pg_call([other] { return exprType(other); });
            const Oid other_coll = pg_call([other] { return exprCollation(other); });
            if (op->opno != eqop || other_type != group_type || other_coll != group_coll ||
                op->inputcollid != group_coll) {
                out.detail = pair + " compares " + type_of(group) + " with " + type_of(other) +
                             " (or under another operator or collation than GROUP BY uses), so "
                             "equal values of the source could fall in different groups.";
                out.hint = "Make both sides of the join condition the key's type, e.g. ON " +
                           describe(query, group) + " = (" + describe(query, other) +
                           ")::" + type_of(group) + ".";
                continue;
            }
            out.source_side = other;
            out.detail.clear();
            out.hint.clear();
            return out;
        }
    }
    return out;
}

}  // namespace incmodel::pg
