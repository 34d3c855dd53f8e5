// The inputs of a features model at creation: one or several models whose targets its query
// reads (sessions and users feeding one user-features table), and for each how the features
// model's key is computed from that input's key.
#include <set>

#include "pg/boundary/guard.hpp"
#include "pg/models/features_model.hpp"

namespace incmodel::pg {

std::vector<ModelRecord> load_feature_inputs(const std::vector<std::string> &names,
                                             const std::string &model) {
    std::set<std::string> seen;
    std::vector<ModelRecord> out;
    for (const auto &name : names) {
        if (name == model)
            throw UserError(ERRCODE_INVALID_OBJECT_DEFINITION,
                            "incmodel: model \"" + model + "\" cannot depend on itself", "",
                            "Name the models whose targets the query reads.");
        if (!seen.insert(name).second)
            throw UserError(ERRCODE_DUPLICATE_OBJECT,
                            "incmodel: depends_on names model \"" + name + "\" twice", "",
                            "Name each input model once.");
        out.push_back(load_model(name));
    }
    return out;
}

namespace {

// The mapping of one input from the query analyzed with that input's target as the source.
FeatureInput mapping_of(const AnalyzedQuery &analyzed, const ModelRecord &input) {
    FeatureInput fi{input.spec.name, map_feature_keys(analyzed.spec, input), {}};
    // a key part computed from the input's key: its touched keys are projected through it
    for (int position : fi.feature_keys)
        if (position == 0) fi.key_exprs = analyzed.feature_key_exprs;
    return fi;
}

std::string key_list(const core::ModelSpec &spec) {
    std::string out;
    for (const auto &k : spec.keys) out += (out.empty() ? "" : ", ") + k.column;
    return out;
}

// Why the query analyzed with an input's target as the source gives no features key, for the
// detail of the refusal (the key is asked for as unique_key: say what that means here).
std::string reason(const UserError &e, const std::string &keys) {
    const std::string what = e.what();
    if (what.rfind("incmodel: unique_key column", 0) == 0)
        return "With that input's target as the source, (" + keys +
               ") is neither read from its columns nor equated to them by an inner join.";
    return "With that input's target as the source: " + what +
           (e.detail().empty() ? "" : " (" + e.detail() + ")");
}

}  // namespace

std::vector<FeatureInput> map_feature_inputs(const ModelQueryInput &base,
                                             const AnalyzedQuery &primary,
                                             const std::vector<ModelRecord> &inputs) {
    std::vector<FeatureInput> out{mapping_of(primary, inputs.at(0))};
    std::vector<std::string> key_names;
    for (const auto &k : primary.spec.keys) key_names.push_back(k.column);
    for (std::size_t i = 1; i < inputs.size(); ++i) {
        ModelQueryInput again = base;
        again.source_relid = inputs[i].target_oid;
        again.input_keys = key_column_names(inputs[i]);
        again.unique_key = key_names;  // the features key the first input gave
        std::optional<AnalyzedQuery> analyzed;
        try {
            analyzed = analyze_model_query(again);
        } catch (const UserError &e) {
            throw UserError(ERRCODE_INVALID_COLUMN_REFERENCE,
                            "incmodel: the key (" + key_list(primary.spec) +
                                ") of a features model is not computed from the key of its "
                                "input model \"" +
                                inputs[i].spec.name + "\"",
                            reason(e, key_list(primary.spec)),
                            "Read every input's target joined on the features key by inner joins "
                            "(JOIN derived.users u ON u.user_id = s.user_id), so each input's "
                            "key columns give the key.");
        }
        out.push_back(mapping_of(*analyzed, inputs[i]));
    }
    return out;
}

}  // namespace incmodel::pg
