// Small helpers for rendering SQL text. Identifier quoting is injected: inside the server it is
// PostgreSQL's own quote_identifier(); unit tests pass a stand-in.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model_spec.hpp"

namespace incmodel::core {

using IdentQuoter = std::function<std::string(std::string_view)>;

// Renders schema.name with both parts quoted.
std::string qualified(const IdentQuoter &quote, const QualifiedName &name);

// "type COLLATE x" -> "type": types are compared without the collation a column may carry.
std::string without_collation(const std::string &type);

// Joins the items with a separator.
std::string join(const std::vector<std::string> &items, std::string_view sep);

// Applies fn to every item and joins the results.
template <typename T, typename Fn>
std::string join_map(const std::vector<T> &items, std::string_view sep, Fn fn) {
    std::vector<std::string> parts;
    parts.reserve(items.size());
    for (const auto &item : items) parts.push_back(fn(item));
    return join(parts, sep);
}

}  // namespace incmodel::core
