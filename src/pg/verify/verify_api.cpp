// The fmgr entry point of incmodel.verify(name, sample).
#include <optional>
#include <string>

#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/verify/verify.hpp"

extern "C" {
#include "utils/fmgroids.h"
}

using namespace incmodel::pg;

namespace {
// A text[] Datum from its text form (as the comparison's SELECT returned it).
Datum text_array_datum(const std::string &literal) {
    const char *s = literal.c_str();
    return pg_call([s] {
        return OidFunctionCall3(F_ARRAY_IN, CStringGetDatum(s), ObjectIdGetDatum(TEXTOID),
                                Int32GetDatum(-1));
    });
}
}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_verify);
Datum incmodel_verify(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string name = text_arg(fcinfo, 0, "name");
        std::optional<double> sample;
        if (!absent(fcinfo, 1)) sample = PG_GETARG_FLOAT8(1);
        VerifyResult r;
        {
            SpiConnection spi;
            r = verify_model(spi, name, sample);
        }
        Datum values[9] = {Int64GetDatum(r.run_id),        Int64GetDatum(r.keys_checked),
                           Int64GetDatum(r.missing),       Int64GetDatum(r.extra),
                           Int64GetDatum(r.differ),        text_array_datum(r.missing_keys),
                           text_array_datum(r.extra_keys), text_array_datum(r.differ_keys),
                           text_datum(r.summary)};
        bool nulls[9] = {false, false, false, false, false, false, false, false, false};
        return composite_datum(fcinfo, values, nulls);
    });
}

}  // extern "C"
