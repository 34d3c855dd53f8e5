#include "pg/boundary/guard.hpp"

#include <cstdio>
#include <cstring>

namespace incmodel::pg {

namespace {
MemoryContext carry_context = nullptr;
int entry_depth = 0;

// Fixed buffers for the message of a C++ exception: filling them allocates nothing, so nothing
// can ERROR while an exception is being handled.
char cxx_message[2048];
char cxx_detail[2048];
char cxx_hint[1024];

void copy_text(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}
}  // namespace

namespace {
constexpr const char *kPinnedPathHint =
    "incmodel runs a model's SQL with search_path = pg_catalog, pg_temp, and the functions the "
    "query calls run under it too: qualify the names in the function's body or pin its path "
    "with ALTER FUNCTION ... SET search_path = ... (e.g. = public, pg_temp).";
constexpr const char *kLongKeyHint =
    "A value is longer than a btree index can hold (about 2.7 kB): the target's unique index on "
    "the model's key, or another index on the target. Group by a shorter expression of a long "
    "key (md5(col), left(col, 1000)) or keep such values out with the query's WHERE.";

// Whether the error's context shows a function body under a statement: a line naming a function
// ("SQL function ...", "PL/pgSQL function ...") with a "SQL statement" line after it (outer).
// Lines are innermost first; a caller's own frames ("SQL statement \"CALL ...\"", then
// "PL/pgSQL function caller") end the context with a function line, so they do not count.
bool raised_in_function(const char *context) {
    bool function_seen = false;
    for (const char *line = context; line != nullptr && *line != '\0';) {
        const char *end = strchr(line, '\n');
        const size_t len = end ? static_cast<size_t>(end - line) : strlen(line);
        if (strncmp(line, "SQL statement", strlen("SQL statement")) == 0) {
            if (function_seen) return true;
        } else {
            const char *hit = strstr(line, "function ");
            if (hit != nullptr && hit < line + len) function_seen = true;
        }
        line = end ? end + 1 : nullptr;
    }
    return false;
}
}  // namespace

const char *known_hint(const ErrorData *edata) {
    if (edata == nullptr) return nullptr;
    const int code = edata->sqlerrcode;
    if ((code == ERRCODE_UNDEFINED_FUNCTION || code == ERRCODE_UNDEFINED_TABLE ||
         code == ERRCODE_UNDEFINED_OBJECT) &&
        raised_in_function(edata->context))
        return kPinnedPathHint;
    if (code == ERRCODE_PROGRAM_LIMIT_EXCEEDED && edata->message != nullptr &&
        strncmp(edata->message, "index row size", strlen("index row size")) == 0 &&
        strstr(edata->message, "btree") != nullptr)
        return kLongKeyHint;
    return nullptr;
}

ErrorSummary describe_error(const std::exception_ptr &error) {
    ErrorSummary out;
    std::exception_ptr inner = error;
    try {
        std::rethrow_exception(error);
    } catch (const ContainedError &e) {
        inner = e.inner();
        out.contained = true;
    } catch (...) {
    }
    try {
        std::rethrow_exception(inner);
    } catch (const PgException &e) {
        out.sqlstate = unpack_sql_state(e.sqlerrcode());
        out.message = e.what();
        if (const char *hint = known_hint(e.data())) out.hint = hint;
    } catch (const UserError &e) {
        out.sqlstate = unpack_sql_state(e.sqlstate());
        out.message = e.what();
        out.user_error = true;
    } catch (const std::exception &e) {
        out.message = e.what();
    } catch (...) {
    }
    return out;
}

void report(int level, const std::string &message, const std::string &detail,
            const std::string &hint) {
    const char *m = message.c_str();
    const char *d = detail.empty() ? nullptr : detail.c_str();
    const char *h = hint.empty() ? nullptr : hint.c_str();
    pg_call([level, m, d, h] {
        ereport(level, (errmsg("%s", m), d ? errdetail("%s", d) : 0, h ? errhint("%s", h) : 0));
    });
}

const char *PgException::what() const noexcept {
    return edata_ && edata_->message ? edata_->message : "PostgreSQL error";
}

// Created on first use under TopMemoryContext; holds at most the errors of one top-level call.
MemoryContext error_carry_context() {
    if (carry_context == nullptr)
        carry_context =
            AllocSetContextCreate(TopMemoryContext, "incmodel error carry", ALLOCSET_SMALL_SIZES);
    return carry_context;
}

// Called in PG_CATCH: keep the error's data (SQLSTATE, message, detail, hint, context) and
// leave PostgreSQL's error state clean, so C++ can unwind before the error is re-raised.
ErrorData *capture_error(MemoryContext return_to) {
    MemoryContextSwitchTo(error_carry_context());
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    MemoryContextSwitchTo(return_to);
    return edata;
}

EntryDepth::EntryDepth() {
    if (entry_depth++ == 0 && carry_context != nullptr) MemoryContextReset(carry_context);
}

EntryDepth::~EntryDepth() {
    --entry_depth;
}

// Raise the ERROR for an exception that was caught at an entry point. Everything that can
// longjmp happens here, after the catch block has ended.
[[noreturn]] void raise_captured(std::exception_ptr error) {
    ErrorData *pg_error = nullptr;
    int sqlstate = ERRCODE_INTERNAL_ERROR;
    bool has_detail = false, has_hint = false;
    try {
        std::rethrow_exception(error);
    } catch (const ContainedError &e) {
        error = e.inner();
    } catch (...) {
    }
    try {
        std::rethrow_exception(error);
    } catch (const PgException &e) {
        pg_error = e.data();
    } catch (const UserError &e) {
        sqlstate = e.sqlstate();
        copy_text(cxx_message, sizeof cxx_message, e.what());
        copy_text(cxx_detail, sizeof cxx_detail, e.detail().c_str());
        copy_text(cxx_hint, sizeof cxx_hint, e.hint().c_str());
        has_detail = !e.detail().empty();
        has_hint = !e.hint().empty();
    } catch (const std::bad_alloc &) {
        sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_text(cxx_message, sizeof cxx_message, "incmodel: out of memory in C++ code");
    } catch (const std::exception &e) {
        copy_text(cxx_message, sizeof cxx_message, e.what());
        snprintf(cxx_detail, sizeof cxx_detail, "A C++ exception was caught at the boundary.");
        has_detail = true;
    } catch (...) {
        copy_text(cxx_message, sizeof cxx_message, "incmodel: unknown C++ exception");
    }
    if (pg_error != nullptr) {
        // ReThrowError copies the strings, so a static hint can stand in for PostgreSQL's.
        if (const char *hint = known_hint(pg_error)) pg_error->hint = const_cast<char *>(hint);
        ReThrowError(pg_error);
    }
    ereport(ERROR,
            (errcode(sqlstate), errmsg("%s", cxx_message),
             has_detail ? errdetail("%s", cxx_detail) : 0, has_hint ? errhint("%s", cxx_hint) : 0));
    pg_unreachable();
}

}  // namespace incmodel::pg
