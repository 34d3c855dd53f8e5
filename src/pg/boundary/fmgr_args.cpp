#include "pg/boundary/fmgr_args.hpp"

namespace incmodel::pg {

namespace {
std::string text_value(FunctionCallInfo fcinfo, int n) {
    text *t = PG_GETARG_TEXT_PP(n);
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}
}  // namespace

std::string text_arg(FunctionCallInfo fcinfo, int n, const char *name) {
    if (PG_ARGISNULL(n))
        throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        std::string("incmodel: argument \"") + name + "\" must not be NULL");
    return text_value(fcinfo, n);
}

// An argument the SQL declaration lacks (a library newer than the installed SQL) reads as NULL.
bool absent(FunctionCallInfo fcinfo, int n) {
    return n >= PG_NARGS() || PG_ARGISNULL(n);
}

std::optional<std::string> opt_text_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    return text_value(fcinfo, n);
}

std::optional<std::string> opt_interval_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    Datum d = PG_GETARG_DATUM(n);
    const char *s = pg_call([d] { return DatumGetCString(DirectFunctionCall1(interval_out, d)); });
    return std::string(s);
}

std::optional<bool> opt_bool_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    return PG_GETARG_BOOL(n);
}

std::optional<std::int64_t> opt_int32_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    return PG_GETARG_INT32(n);
}

std::optional<std::int64_t> opt_int64_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    return PG_GETARG_INT64(n);
}

std::optional<std::string> opt_timestamptz_arg(FunctionCallInfo fcinfo, int n) {
    if (absent(fcinfo, n)) return std::nullopt;
    return std::to_string(PG_GETARG_TIMESTAMPTZ(n));
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n, const char *name) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(n)) return out;
    ArrayType *arr = PG_GETARG_ARRAYTYPE_P(n);
    Datum *elems = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    pg_call([arr, &elems, &nulls, &count] {
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
    });
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            std::string("incmodel: ") + name + " must not contain NULL");
        text *t = DatumGetTextPP(elems[i]);
        out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
    return out;
}

Datum text_datum(const std::string &s) {
    const char *c = s.c_str();
    return pg_call([c] { return PointerGetDatum(cstring_to_text(c)); });
}

Datum composite_datum(FunctionCallInfo fcinfo, Datum *values, bool *nulls) {
    return pg_call([fcinfo, values, nulls] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "incmodel: function must return a composite type");
        desc = BlessTupleDesc(desc);
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

bool is_nonatomic_call(FunctionCallInfo fcinfo) {
    return fcinfo->context != nullptr && IsA(fcinfo->context, CallContext) &&
           !castNode(CallContext, fcinfo->context)->atomic;
}

}  // namespace incmodel::pg
