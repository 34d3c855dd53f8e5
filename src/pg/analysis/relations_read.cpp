#include "pg/analysis/relations_read.hpp"

#include <algorithm>

#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/spi_client.hpp"

extern "C" {
#include "catalog/catalog.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
}

namespace incmodel::pg {

namespace {

// Range table relations of every query level (subqueries, CTEs, sublinks), as OIDs. Plain C:
// called through pg_call, never throws.
struct Collected {
    Oid relids[256];
    int n;
};

bool collect_walker(Node *node, void *ctx) {
    if (node == nullptr) return false;
    auto *c = static_cast<Collected *>(ctx);
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (rte->rtekind == RTE_RELATION && c->n < 256) c->relids[c->n++] = rte->relid;
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(collect_walker), ctx,
                                 QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(collect_walker), ctx);
}

}  // namespace

std::vector<Oid> relations_read(const std::string &query_tree, Oid source) {
    if (query_tree.empty()) return {};
    const char *text = query_tree.c_str();
    Collected *c = pg_call([text] {
        auto *out = static_cast<Collected *>(palloc0(sizeof(Collected)));
        Node *tree = static_cast<Node *>(stringToNode(text));
        collect_walker(tree, out);
        return out;
    });
    std::vector<std::string> direct;
    for (int i = 0; i < c->n; ++i) direct.push_back(std::to_string(c->relids[i]));
    // Views to the relations their rules read, every level; then only tables outside the system
    // catalogs, the source left out.
    // rel: what the query reads, views expanded to what their rules read (every level); behind:
    // the source and, when it is a view, what it reads (the source's own data, not dimensions).
    const std::string expand =
        " JOIN pg_catalog.pg_class v ON v.oid OPERATOR(pg_catalog.=) {t}.oid AND v.relkind "
        "OPERATOR(pg_catalog.=) 'v' JOIN pg_catalog.pg_rewrite w ON w.ev_class "
        "OPERATOR(pg_catalog.=) v.oid JOIN pg_catalog.pg_depend d ON d.classid "
        "OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid "
        "OPERATOR(pg_catalog.=) w.oid AND d.refclassid OPERATOR(pg_catalog.=) "
        "'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.<>) v.oid";
    auto expanding = [&](const char *t) {
        std::string out = expand;
        for (std::size_t at; (at = out.find("{t}")) != std::string::npos;) out.replace(at, 3, t);
        return out;
    };
    SqlResult r = spi_exec(
        "WITH RECURSIVE rel(oid) AS (SELECT unnest($1::pg_catalog.text[])::pg_catalog.oid UNION "
        "SELECT d.refobjid FROM rel" +
            expanding("rel") +
            "), behind(oid) AS (SELECT $2::pg_catalog.oid UNION SELECT d.refobjid FROM behind" +
            expanding("behind") +
            ") SELECT DISTINCT c.oid::pg_catalog.text AS relid FROM rel JOIN pg_catalog.pg_class c "
            "ON c.oid OPERATOR(pg_catalog.=) rel.oid JOIN pg_catalog.pg_namespace n ON n.oid "
            "OPERATOR(pg_catalog.=) c.relnamespace WHERE c.relkind OPERATOR(pg_catalog.=) ANY "
            "('{r,p,f}'::pg_catalog.char[]) AND n.nspname OPERATOR(pg_catalog.<>) ALL "
            "('{pg_catalog,information_schema}'::pg_catalog.name[]) AND c.relpersistence "
            "OPERATOR(pg_catalog.<>) 't' AND c.oid OPERATOR(pg_catalog.<>) ALL (SELECT oid FROM "
            "behind)",
        {SqlParam::text_array(direct), SqlParam::int64(source)});
    std::vector<Oid> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i)
        out.push_back(static_cast<Oid>(std::stoul(NamedRow(r, i).text("relid"))));
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace incmodel::pg
