#include "pg/boundary/spi_client.hpp"

#include <cstdlib>
#include <stdexcept>

namespace incmodel::pg {

std::optional<std::string> SqlResult::scalar() const {
    if (rows.empty() || rows[0].empty()) return std::nullopt;
    return rows[0][0];
}

std::int64_t SqlResult::scalar_int(std::int64_t if_null) const {
    auto v = scalar();
    return v ? std::strtoll(v->c_str(), nullptr, 10) : if_null;
}

SpiConnection::SpiConnection(bool nonatomic)
    : nonatomic_(nonatomic), uncaught_at_start_(std::uncaught_exceptions()) {
    int flags = nonatomic ? SPI_OPT_NONATOMIC : 0;
    int rc = pg_call([flags] { return SPI_connect_ext(flags); });
    if (rc != SPI_OK_CONNECT) throw std::runtime_error("incmodel: SPI_connect failed");
}

// Only finish when leaving normally; during unwinding the transaction is about to abort and
// AtEOXact_SPI cleans up.
SpiConnection::~SpiConnection() {
    if (std::uncaught_exceptions() > uncaught_at_start_) return;
    try {
        pg_call([] { SPI_finish(); });
    } catch (...) {
        // An ERROR in SPI_finish leaves nothing for us to do; the transaction will abort.
    }
}

void SpiConnection::commit() {
    pg_call([] { SPI_commit(); });
}

namespace {

// Builds the Datum of a text[] parameter (NULL elements allowed) in the current memory context.
Datum make_text_array(const std::vector<std::optional<std::string>> &values) {
    const int n = static_cast<int>(values.size());
    if (n == 0) return pg_call([] { return PointerGetDatum(construct_empty_array(TEXTOID)); });
    const size_t slots = n;
    Datum *elems = static_cast<Datum *>(pg_call([slots] { return palloc(sizeof(Datum) * slots); }));
    bool *nulls = static_cast<bool *>(pg_call([slots] { return palloc0(sizeof(bool) * slots); }));
    for (int i = 0; i < n; ++i) {
        if (!values[i]) {
            nulls[i] = true;
            elems[i] = (Datum)0;
            continue;
        }
        const char *s = values[i]->c_str();
        elems[i] = pg_call([s] { return PointerGetDatum(cstring_to_text(s)); });
    }
    return pg_call([elems, nulls, n] {
        int dims[1] = {n};
        int lbs[1] = {1};
        return PointerGetDatum(
            construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    });
}

// Builds the Datum of a typed scalar parameter from its text by the type's input function.
Datum make_typed(const std::string &text, Oid type) {
    const char *s = text.c_str();
    return pg_call([s, type] {
        Oid input = InvalidOid;
        Oid ioparam = InvalidOid;
        getTypeInputInfo(type, &input, &ioparam);
        return OidInputFunctionCall(input, const_cast<char *>(s), ioparam, -1);
    });
}

}  // namespace

SqlResult spi_exec(const std::string &sql, const std::vector<SqlParam> &params, bool read_only) {
    const int nargs = static_cast<int>(params.size());
    std::vector<Oid> types(nargs);
    std::vector<Datum> values(nargs);
    std::vector<char> nulls(nargs + 1, ' ');
    for (int i = 0; i < nargs; ++i) {
        const SqlParam &p = params[i];
        if (p.is_array) {
            types[i] = TEXTARRAYOID;
            values[i] = make_text_array(p.array);
        } else {
            types[i] = p.type;
            if (p.text && p.type != TEXTOID) {
                values[i] = make_typed(*p.text, p.type);
            } else if (p.text) {
                const char *s = p.text->c_str();
                values[i] = pg_call([s] { return PointerGetDatum(cstring_to_text(s)); });
            } else {
                nulls[i] = 'n';
            }
        }
    }

    const char *query = sql.c_str();
    Oid *argtypes = nargs ? types.data() : nullptr;
    Datum *argvalues = nargs ? values.data() : nullptr;
    const char *argnulls = nargs ? nulls.data() : nullptr;
    int rc = pg_call([&] {
        return SPI_execute_with_args(query, nargs, argtypes, argvalues, argnulls, read_only, 0);
    });
    if (rc < 0) throw std::runtime_error("incmodel: SPI_execute failed for: " + sql);

    SqlResult result;
    result.processed = SPI_processed;
    if (SPI_tuptable != nullptr) {
        SPITupleTable *table = SPI_tuptable;
        const int natts = table->tupdesc->natts;
        for (int c = 0; c < natts; ++c)
            result.columns.emplace_back(NameStr(TupleDescAttr(table->tupdesc, c)->attname));
        result.rows.reserve(SPI_processed);
        for (uint64 r = 0; r < SPI_processed; ++r) {
            SqlRow row;
            row.reserve(natts);
            for (int c = 1; c <= natts; ++c) {
                HeapTuple tuple = table->vals[r];
                char *v =
                    pg_call([table, tuple, c] { return SPI_getvalue(tuple, table->tupdesc, c); });
                if (v == nullptr)
                    row.emplace_back(std::nullopt);
                else
                    row.emplace_back(std::string(v));
            }
            result.rows.push_back(std::move(row));
        }
        pg_call([table] { SPI_freetuptable(table); });
    }
    return result;
}

const std::optional<std::string> &NamedRow::operator[](std::string_view column) const {
    for (std::size_t c = 0; c < result_.columns.size(); ++c)
        if (result_.columns[c] == column) return result_.rows.at(row_).at(c);
    throw std::logic_error("incmodel: no column \"" + std::string(column) + "\" in the result");
}

std::string NamedRow::text(std::string_view column) const {
    return (*this)[column].value_or("");
}

bool NamedRow::boolean(std::string_view column) const {
    return (*this)[column] == std::optional<std::string>("t");
}

std::int64_t NamedRow::int64(std::string_view column) const {
    return std::stoll((*this)[column].value());
}

}  // namespace incmodel::pg
