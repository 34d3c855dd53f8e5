#include "pg/analysis/feature_keys.hpp"

#include "pg/analysis/tree_util.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "optimizer/optimizer.h"
}

namespace incmodel::pg {

namespace {

struct InputColumns {
    int source_rti;
    std::vector<AttrNumber> attnums;  // the source's columns the expression reads
    bool other;                       // it reads another relation, a whole row or a sublink
};

// Collects the source columns a key expression reads (called from C: never throws).
bool input_columns_walker(Node *node, void *ctx) {
    auto *c = static_cast<InputColumns *>(ctx);
    if (node == nullptr) return false;
    if (IsA(node, Var)) {
        auto *v = reinterpret_cast<Var *>(node);
        if (v->varlevelsup != 0 || static_cast<int>(v->varno) != c->source_rti || v->varattno <= 0)
            c->other = true;
        else
            c->attnums.push_back(v->varattno);
        return false;
    }
    if (IsA(node, SubLink) || IsA(node, Query)) {
        c->other = true;
        return false;
    }
    return expression_tree_walker(node, as_walker(input_columns_walker), ctx);
}

std::string joined(const std::vector<std::string> &names) {
    std::string out;
    for (const auto &n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

void require_function_of_input_keys(Node *expr, const std::string &column, int source_rti,
                                    Oid source, const std::vector<std::string> &input_keys) {
    InputColumns c{source_rti, {}, false};
    pg_call([expr, &c] { (void)input_columns_walker(expr, &c); });
    bool keys_only = !c.other;
    for (AttrNumber a : c.attnums) {
        const std::string name = pg_call([source, a] { return get_attname(source, a, false); });
        bool found = false;
        for (const auto &k : input_keys) found = found || k == name;
        keys_only = keys_only && found;
    }
    if (!keys_only)
        throw UserError(ERRCODE_INVALID_COLUMN_REFERENCE,
                        "incmodel: GROUP BY \"" + column +
                            "\" of a features model must be a key column of its input or an "
                            "expression of them",
                        "The input model's key is (" + joined(input_keys) +
                            "); a key part may be a key column or an immutable expression of key "
                            "columns only.",
                        "Group by key columns of the input (e.g. the user id), or by an "
                        "expression of them (date_trunc('month', day::timestamp)::date), so that "
                        "the input's runs tell which rows to recompute.");
    if (pg_call([expr] { return contain_mutable_functions(expr); }))
        throw UserError(ERRCODE_INVALID_OBJECT_DEFINITION,
                        "incmodel: GROUP BY \"" + column +
                            "\" of a features model must be an immutable expression",
                        "The input's touched keys are projected through it when the input "
                        "commits, under that run's settings (time zone, date style): a stable "
                        "function (a date cast to timestamptz in date_trunc('month', day)) could "
                        "name other rows than the features run recomputes.",
                        "Use immutable functions only: date_trunc('month', day::timestamp)::date "
                        "instead of date_trunc('month', day)::date.");
}

}  // namespace incmodel::pg
