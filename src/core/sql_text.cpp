#include "core/sql_text.hpp"

namespace incmodel::core {

// Renders schema.name with both parts quoted, so that no name is ever pasted raw into SQL.
std::string qualified(const IdentQuoter &quote, const QualifiedName &name) {
    return quote(name.schema) + "." + quote(name.name);
}

// Joins rendered fragments; kept here so every renderer lists columns the same way.
std::string join(const std::vector<std::string> &items, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.append(sep);
        out.append(items[i]);
    }
    return out;
}

std::string without_collation(const std::string &type) {
    auto pos = type.find(" COLLATE ");
    return pos == std::string::npos ? type : type.substr(0, pos);
}

}  // namespace incmodel::core
