// Shared fixtures of the core's unit tests: a stand-in for PostgreSQL's quote_identifier and a
// sessions model spec, so that every test renders SQL from the same model.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "core/model_spec.hpp"

namespace incmodel::core::test_support {

// Quotes anything that is not a plain lower-case identifier (or is one of two keywords).
inline std::string test_quote(std::string_view ident) {
    bool plain = !ident.empty() && (std::islower(ident[0]) || ident[0] == '_');
    for (char c : ident)
        if (!(std::islower(c) || std::isdigit(c) || c == '_')) plain = false;
    if (plain && ident != "user" && ident != "select") return std::string(ident);
    std::string out = "\"";
    for (char c : ident) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// SELECT domain_sessionid AS session_id, count(*) AS events FROM atomic.events GROUP BY ...
inline ModelSpec sessions_spec() {
    ModelSpec s;
    s.id = 7;
    s.name = "sessions";
    s.source = {"atomic", "events"};
    s.source_alias = "events";
    s.batch_column = "etl_tstamp";
    s.batch_type = "timestamp without time zone";
    s.query_head = "SELECT domain_sessionid AS session_id, count(*) AS events FROM ";
    s.query_tail = "GROUP BY domain_sessionid";
    s.keys = {{"session_id", "events.domain_sessionid", "text", std::nullopt}};
    s.outputs = {{"session_id", "text"}, {"events", "bigint"}};
    s.unique_columns = {"session_id"};
    s.target = {"derived", "sessions"};
    return s;
}

}  // namespace incmodel::core::test_support
