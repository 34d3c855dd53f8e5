#include "pg/analysis/dimension_routes.hpp"

#include <deque>
#include <map>
#include <vector>

#include "pg/analysis/query_analysis.hpp"
#include "pg/analysis/simple_views.hpp"
#include "pg/analysis/source_scope.hpp"
#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"

extern "C" {
#include "access/transam.h"
#include "catalog/pg_operator.h"
}

namespace incmodel::pg {

namespace {

// The one top-level range table entry an expression reads (0: none, several or not plainly).
int single_rti(Node *expr) {
    VarUse use{0, false, false};
    pg_call([expr, &use] { (void)var_use_walker(expr, &use); });
    if (use.far || use.complex || use.varnos == 0 || (use.varnos & (use.varnos - 1)) != 0) return 0;
    int rti = 0;
    while ((use.varnos >> rti) != 1) ++rti;
    return rti;
}

// Every AND part of WHERE and of each join's ON that equates two entries with an equality a
// hash or merge join could use (so that it means "same value").
void collect_equalities(Query *query, Node *node, std::vector<Equality> &out) {
    if (node == nullptr) return;
    auto add = [&](Node *quals) {
        if (quals == nullptr) return;
        List *parts =
            pg_call([quals] { return make_ands_implicit(reinterpret_cast<Expr *>(quals)); });
        ListCell *lc;
        foreach (lc, parts) {
            Node *part = without_join_aliases(query, static_cast<Node *>(lfirst(lc)));
            if (!IsA(part, OpExpr) || list_length(reinterpret_cast<OpExpr *>(part)->args) != 2)
                continue;
            auto *op = reinterpret_cast<OpExpr *>(part);
            Node *l = static_cast<Node *>(linitial(op->args));
            Node *r = static_cast<Node *>(lsecond(op->args));
            const Oid opno = op->opno;
            const Oid ltype = pg_call([l] { return exprType(l); });
            const bool equality = pg_call([opno, ltype] {
                return op_hashjoinable(opno, ltype) || op_mergejoinable(opno, ltype);
            });
            const int lr = single_rti(l), rr = single_rti(r);
            if (equality && lr != 0 && rr != 0 && lr != rr) out.push_back({op, {l, r}, {lr, rr}});
        }
    };
    if (IsA(node, FromExpr)) {
        auto *f = reinterpret_cast<FromExpr *>(node);
        add(f->quals);
        ListCell *lc;
        foreach (lc, f->fromlist) collect_equalities(query, static_cast<Node *>(lfirst(lc)), out);
    } else if (IsA(node, JoinExpr)) {
        auto *j = reinterpret_cast<JoinExpr *>(node);
        add(j->quals);
        collect_equalities(query, j->larg, out);
        collect_equalities(query, j->rarg, out);
    }
}

}  // namespace

std::vector<Equality> top_level_equalities(Query *query) {
    std::vector<Equality> eqs;
    collect_equalities(query, reinterpret_cast<Node *>(query->jointree), eqs);
    return eqs;
}

RangeTblEntry *rte_of(Query *query, int rti) {
    return static_cast<RangeTblEntry *>(list_nth(query->rtable, rti - 1));
}

// OPERATOR(schema.name): the equality the query compares with, whatever the search path.
std::string operator_sql(Oid opno) {
    const char *sql = pg_call([opno] {
        HeapTuple tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
        if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for operator %u", opno);
        auto *form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tup));
        char *out =
            psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(form->oprnamespace)),
                     NameStr(form->oprname));
        ReleaseSysCache(tup);
        return out;
    });
    return sql;
}

std::string relation_sql(RangeTblEntry *rte) {
    const Oid relid = rte->relid;
    const char *name = pg_call([relid] {
        return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                          get_rel_name(relid));
    });
    return std::string(rte->inh ? "" : "ONLY ") + name;
}

std::string alias_of(Query *query, int rti) {
    const char *name = rte_of(query, rti)->eref->aliasname;
    const char *quoted = pg_call([name] { return quote_identifier(name); });
    return quoted;
}

namespace {

// The path of equalities from the dimension's entry to the source's (breadth first: the
// shortest), through relations of the top-level FROM only. Empty when there is none.
std::vector<std::pair<const Equality *, int>> find_path(Query *query,
                                                        const std::vector<Equality> &eqs, int from,
                                                        int to) {
    std::map<int, std::pair<const Equality *, int>> came;  // rti -> (equality, previous rti)
    std::deque<int> queue{from};
    came[from] = {nullptr, 0};
    while (!queue.empty()) {
        const int at = queue.front();
        queue.pop_front();
        if (at == to) break;
        if (at != from && rte_of(query, at)->rtekind != RTE_RELATION) continue;
        for (const Equality &e : eqs)
            for (int s = 0; s < 2; ++s) {
                if (e.rti[s] != at || came.count(e.rti[1 - s])) continue;
                came[e.rti[1 - s]] = {&e, at};
                queue.push_back(e.rti[1 - s]);
            }
    }
    std::vector<std::pair<const Equality *, int>> path;  // (equality, the rti it leaves from)
    if (!came.count(to)) return path;
    for (int at = to; at != from; at = came[at].second)
        path.insert(path.begin(), {came[at].first, came[at].second});
    return path;
}

}  // namespace

DimensionMapping dimension_mapping(const std::string &tree, Oid source,
                                   const std::string &source_alias, Oid relid, Oid target) {
    DimensionMapping out;
    if (tree.empty()) {
        out.description = "the model's query was stored before its tree was (a model from 0.2.0)";
        return out;
    }
    const char *text = tree.c_str();
    Node *node = static_cast<Node *>(pg_call([text] { return stringToNode(text); }));
    if (node == nullptr || !IsA(node, Query)) return out;
    Query *query = reinterpret_cast<Query *>(node);
    std::vector<SourceScope> found = find_sources(query, [source](Oid r) { return r == source; });
    if (found.size() != 1) return out;
    const SourceScope &scope = found.front();

    std::vector<int> top;
    for (int rti = 1; rti <= list_length(query->rtable); ++rti) {
        RangeTblEntry *rte = rte_of(query, rti);
        if (rte->rtekind == RTE_RELATION && rte->relid == relid) top.push_back(rti);
    }
    // Read once in all: in the top-level FROM, or through one simple view, subquery or CTE of it.
    const int direct = relation_references(query, relid);
    const int uses = relation_uses_behind_views(query, relid);
    if (uses > 1 || top.size() > 1) {
        out.description = "it is read more than once";
        return out;
    }
    std::optional<ThroughChain> through;
    int dim = top.empty() ? 0 : top.front();
    if (dim == 0) {
        dim = uses == 1 ? entry_reading(query, relid) : 0;
        if (dim == 0 || dim == scope.outer_rti) {
            out.description = dim != 0     ? "it is read in the subquery over the source"
                              : uses == 0  ? "the query no longer reads it (a view it read "
                                             "through was redefined)"
                              : direct > 0 ? "it is read in a subquery, CTE or sublink"
                                           : "it is read through a view in a sublink";
            return out;
        }
        through = chain_to(query, dim, relid);
        if (!through->simple) {
            out.description = "it is read through " + through->via + ", which " + through->reason;
            return out;
        }
    }
    if (dim >= 64) {
        out.description = "the query reads too many relations";
        return out;
    }
    const std::vector<Equality> eqs = top_level_equalities(query);
    const auto path = find_path(query, eqs, dim, scope.outer_rti);
    if (path.empty()) {
        out.description = "no equality of the query leads from it to the source";
        return out;
    }

    // The SQL of one side of an equality at a relation entry (or the source, through the scope).
    auto side_sql = [&](Node *expr, int rti) -> std::optional<std::string> {
        if (rti == scope.outer_rti) {
            Node *own = to_source(scope, expr);
            if (own == nullptr) return std::nullopt;
            return deparse_over(own, scope.source_rti, source_alias, source);
        }
        RangeTblEntry *rte = rte_of(query, rti);
        // Through a view, subquery or CTE: over the base relation, under the entry's alias.
        if (rti == dim && through) return deparse_over(expr, rti, rte->eref->aliasname, relid);
        return deparse_over(expr, rti, rte->eref->aliasname, rte->relid);
    };
    // The first equality's side at the dimension. Read through a view, subquery or CTE, it is
    // rewritten over the base relation's columns: the changed rows' values there are the values
    // the entry's rows (those the view's filters keep) have.
    const Equality &e0 = *path.front().first;
    Node *first = e0.side[e0.rti[0] == dim ? 0 : 1];
    Node *first_here = first;
    std::string base_name;
    if (through) {
        std::vector<AttrNumber> read;
        first_here = over_base(first, dim, relid, *through, &read);
        const char *name = pg_call([relid] {
            return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                              get_rel_name(relid));
        });
        base_name = name;
        if (first_here == nullptr) {
            out.description = "it is read through " + through->via +
                              ", and the column its equality with the source's side reads is "
                              "computed there, not a column of " +
                              base_name;
            return out;
        }
        // The query reads the base relation only through the view (with the view owner's
        // rights); the route maps its changed rows' values as the model's owner, who must be
        // allowed to read them itself.
        const Oid owner = relation_owner(target);
        for (AttrNumber a : read) {
            const bool may = pg_call([relid, a, owner] {
                return pg_class_aclcheck(relid, owner, ACL_SELECT) == ACLCHECK_OK ||
                       pg_attribute_aclcheck(relid, a, owner, ACL_SELECT) == ACLCHECK_OK;
            });
            if (!may) {
                const char *col = pg_call([relid, a] { return get_attname(relid, a, false); });
                out.description = "it is read through " + through->via +
                                  ", and the model's owner (" + role_name(owner) +
                                  ") may not read column " + quote_ident(col) + " of " + base_name +
                                  " itself";
                return out;
            }
        }
    }
    std::vector<std::string> described;
    std::string previous;  // the SQL standing for the previous hop's side: _incmodel_v.v
    for (size_t i = 0; i < path.size(); ++i) {
        const Equality &e = *path[i].first;
        const int at = path[i].second;
        const int here = e.rti[0] == at ? 0 : 1;
        const int there = 1 - here;
        std::optional<std::string> mine = side_sql(i == 0 ? first_here : e.side[here], at);
        std::optional<std::string> theirs = side_sql(e.side[there], e.rti[there]);
        if (!mine || !theirs) {
            out.description =
                "an equality on its way to the source reads a column the "
                "subquery over the source computes";
            return out;
        }
        described.push_back(here == 0 ? *mine + " = " + *theirs : *theirs + " = " + *mine);
        const std::string op = operator_sql(e.op->opno);
        const std::string v = "_incmodel_v.v";
        const std::string match =
            here == 0 ? v + " " + op + " " + *theirs : *theirs + " " + op + " " + v;
        if (i == 0) {
            const Oid type = pg_call([first] { return exprType(first); });
            CatalogOnlySearchPath catalog_only;
            const char *type_sql = pg_call([type] { return format_type_be(type); });
            out.route.value_type = type_sql;
            out.route.hops.push_back({"", alias_of(query, dim), *mine, ""});
            Node *plain = first_here;
            while (plain != nullptr && IsA(plain, RelabelType))
                plain = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(plain)->arg);
            if (plain != nullptr && IsA(plain, Var)) {
                const Var *var = reinterpret_cast<const Var *>(plain);
                if (var->varno == dim && var->varlevelsup == 0 && var->varattno > 0 &&
                    var->vartype < FirstNormalObjectId)
                    out.dimension_attnum = var->varattno;
            }
        }
        if (i + 1 == path.size()) {
            out.route.source_match = match;
            Node *own = to_source(scope, e.side[there]);
            if (own != nullptr && IsA(own, Var))
                out.source_attnum = reinterpret_cast<Var *>(own)->varattno;
        } else {
            // The next hop reads the relation on the other side; its value is its side of the
            // next equality, and this equality is its match.
            const Equality &next = *path[i + 1].first;
            const int next_here = next.rti[0] == e.rti[there] ? 0 : 1;
            std::optional<std::string> value = side_sql(next.side[next_here], e.rti[there]);
            if (!value) return out;
            out.route.hops.push_back({relation_sql(rte_of(query, e.rti[there])),
                                      alias_of(query, e.rti[there]), *value, match});
        }
    }
    out.bounded = true;
    for (size_t i = 0; i < described.size(); ++i) out.description += (i ? ", " : "") + described[i];
    if (through)
        out.description +=
            ", " + alias_of(query, dim) + " being " + base_name + " read through " + through->via;
    out.through = through ? through->via : "";
    return out;
}

}  // namespace incmodel::pg
