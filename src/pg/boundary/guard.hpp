// The C++/PostgreSQL boundary, guarded both ways.
//
//  * pg_call(fn): runs fn (PostgreSQL calls only, no objects with destructors inside) under a
//    sigsetjmp guard. An ERROR raised inside is caught, its data copied, the error state cleared,
//    and it is rethrown as PgException, so C++ destructors run while the stack unwinds.
//  * entry_point(fn): the body of every fmgr function. It catches every C++ exception and raises
//    the ERROR only after the catch block has ended, with the original SQLSTATE, message, detail
//    and hint for errors that came from PostgreSQL.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// A PostgreSQL ERROR travelling through C++ frames. The ErrorData lives in a memory context
// reserved for it, reset when the next top-level entry point starts.
class PgException : public std::exception {
  public:
    explicit PgException(ErrorData *edata) : edata_(edata) {}
    const char *what() const noexcept override;
    ErrorData *data() const { return edata_; }
    int sqlerrcode() const { return edata_->sqlerrcode; }

  private:
    ErrorData *edata_;
};

// An error incmodel raises itself, with everything a user needs to act on it.
class UserError : public std::exception {
  public:
    UserError(int sqlstate, std::string message, std::string detail = {}, std::string hint = {})
        : sqlstate_(sqlstate),
          message_(std::move(message)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}
    const char *what() const noexcept override { return message_.c_str(); }
    int sqlstate() const { return sqlstate_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }

  private:
    int sqlstate_;
    std::string message_, detail_, hint_;
};

// A failure that was contained: its unit was rolled back and the run recorded as failed, so the
// transaction is in a clean state. refresh_all() may go on to the next model after one.
class ContainedError : public std::exception {
  public:
    explicit ContainedError(std::exception_ptr inner) : inner_(std::move(inner)) {}
    const char *what() const noexcept override { return "incmodel: contained failure"; }
    const std::exception_ptr &inner() const { return inner_; }

  private:
    std::exception_ptr inner_;
};

// The memory context that carries caught ErrorData until it is re-raised.
MemoryContext error_carry_context();

// Copies the current error into the carry context and clears the error state.
ErrorData *capture_error(MemoryContext return_to);

// Runs fn under a sigsetjmp guard; see the file comment. fn must not own C++ objects with
// destructors, because a longjmp out of it would skip them.
template <typename Fn>
auto pg_call(Fn &&fn) -> decltype(fn()) {
    using Result = decltype(fn());
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *volatile caught = nullptr;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        { fn(); }
        PG_CATCH();
        { caught = capture_error(caller_context); }
        PG_END_TRY();
        if (caught) throw PgException(caught);
    } else {
        static_assert(std::is_trivially_destructible_v<Result>,
                      "pg_call results must be plain values (pointers, Datums, numbers)");
        volatile Result result{};  // assigned before a longjmp can happen, read only after none did
        PG_TRY();
        { result = fn(); }
        PG_CATCH();
        { caught = capture_error(caller_context); }
        PG_END_TRY();
        if (caught) throw PgException(caught);
        return static_cast<Result>(result);
    }
}

// What a caught failure says, for run records and logs: its SQLSTATE (five characters) and
// message; a ContainedError is described by the failure it contains.
struct ErrorSummary {
    std::string sqlstate = "XX000";
    std::string message = "unknown error";
    std::string hint;  // incmodel's own hint for a PostgreSQL error (see known_hint), or empty
    bool contained = false;   // it came wrapped in a ContainedError: already recorded in a run
    bool user_error = false;  // incmodel raised it (a UserError), e.g. a refusal
    // "message (SQLSTATE xxxxx)"
    std::string text() const { return message + " (SQLSTATE " + sqlstate + ")"; }
};
ErrorSummary describe_error(const std::exception_ptr &error);

// A hint for a PostgreSQL error whose cause incmodel knows better than PostgreSQL's generic hint
// does, or nullptr: an undefined function, relation or type inside a function body (the model's
// SQL runs under the pinned search_path, and so do the bodies it calls), a value too long for a
// btree index (a long key). A static string: it allocates nothing, so it is safe while an error
// is being raised.
const char *known_hint(const ErrorData *edata);

// Emits a NOTICE or WARNING (level) with a detail and hint when they are not empty.
void report(int level, const std::string &message, const std::string &detail = "",
            const std::string &hint = "");

// Where the current exception is turned into an ERROR: see entry_point().
[[noreturn]] void raise_captured(std::exception_ptr error);

// Tracks nesting of entry points, so only the outermost resets the carry context.
class EntryDepth {
  public:
    EntryDepth();
    ~EntryDepth();
};

// The body of an fmgr entry point. No C++ exception escapes it.
template <typename Fn>
Datum entry_point(Fn &&fn) {
    std::exception_ptr error;
    {
        EntryDepth depth;
        try {
            return fn();
        } catch (...) {
            error = std::current_exception();
        }
    }
    raise_captured(error);  // outside every catch block: may longjmp
}

}  // namespace incmodel::pg
