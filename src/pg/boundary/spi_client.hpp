// SPI from C++: statements with positional parameters (never values pasted into SQL), results
// copied out as text into C++ containers, every call guarded by pg_call().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

// One statement parameter: text (cast in SQL as needed), or an array of text whose elements
// may be NULL. A scalar may instead be typed (type, e.g. TIMESTAMPTZOID): its text is converted
// by the type's input function when the statement runs, under the settings then in force (a
// run's pinned ones), which is what `$n::type` gives a text parameter; but a cast of a typed
// parameter to its own type is a no-op, where a cast from text is evaluated for every row a
// filter reads (text input is only stable, so the planner never folds it).
struct SqlParam {
    std::optional<std::string> text;
    std::vector<std::optional<std::string>> array;
    bool is_array = false;
    Oid type = TEXTOID;  // of a scalar

    static SqlParam value(std::string v) { return {std::move(v), {}, false}; }
    static SqlParam int64(std::int64_t v) { return value(std::to_string(v)); }
    static SqlParam null() { return {std::nullopt, {}, false}; }
    static SqlParam text_array(const std::vector<std::string> &v) {
        return {std::nullopt, {v.begin(), v.end()}, true};
    }
    static SqlParam text_array(std::vector<std::optional<std::string>> v) {
        return {std::nullopt, std::move(v), true};
    }
    // The same scalar (or NULL) typed: see above.
    SqlParam typed(Oid as) const {
        SqlParam p = *this;
        p.type = as;
        return p;
    }
};

using SqlRow = std::vector<std::optional<std::string>>;

struct SqlResult {
    std::uint64_t processed = 0;
    std::vector<SqlRow> rows;
    std::vector<std::string> columns;  // the result's column names, in order

    // The first column of the first row, or nullopt.
    std::optional<std::string> scalar() const;
    std::int64_t scalar_int(std::int64_t if_null = 0) const;
};

// One row of a result read by column name, as catalog rows are (pg_ivm's named attributes): a
// column added to or moved in a SELECT list cannot shift what another field reads. Naming a
// column the result lacks is a programming error (std::logic_error, reported as XX000).
class NamedRow {
  public:
    NamedRow(const SqlResult &result, std::size_t row) : result_(result), row_(row) {}
    const std::optional<std::string> &operator[](std::string_view column) const;
    std::string text(std::string_view column) const;  // "" for NULL
    bool boolean(std::string_view column) const;      // NULL is false
    std::int64_t int64(std::string_view column) const;

  private:
    const SqlResult &result_;
    std::size_t row_;
};

// An SPI connection for the life of the object. On unwinding from an error it leaves the
// connection to PostgreSQL's abort processing rather than calling into SPI again.
class SpiConnection {
  public:
    explicit SpiConnection(bool nonatomic = false);
    ~SpiConnection();
    SpiConnection(const SpiConnection &) = delete;
    SpiConnection &operator=(const SpiConnection &) = delete;

    bool nonatomic() const { return nonatomic_; }
    void commit();  // nonatomic only: commit and start a new transaction

  private:
    bool nonatomic_;
    int uncaught_at_start_;
};

// Runs one statement. read_only is for statements in STABLE contexts only: it reuses the current
// snapshot and so would not see the effects of earlier statements in the same transaction.
SqlResult spi_exec(const std::string &sql, const std::vector<SqlParam> &params = {},
                   bool read_only = false);

}  // namespace incmodel::pg
