// Stubs of the test-only C functions that incmodel 0.1.0 shipped in schema incmodel_test.
//
// The released script incmodel--0.1.0.sql (never edited) creates those functions, and a fresh
// install of a later version runs it first, so their symbols must resolve in incmodel.so or
// CREATE EXTENSION fails. The 0.2.0 -> 0.3.0 upgrade drops them again. The real functions live
// in the test-only extension incmodel_test (test/ext), which production builds never install.
#include <string>

#include "pg/boundary/guard.hpp"

using namespace incmodel::pg;

namespace {

// The error every stub raises: the function is not part of production incmodel any more.
[[noreturn]] void moved_to_test_extension(const char *function) {
    throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                    std::string("incmodel: ") + function + " moved to the incmodel_test extension",
                    "Production incmodel ships no test functions.",
                    "ALTER EXTENSION incmodel UPDATE; incmodel's own test suite installs "
                    "the incmodel_test extension.");
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_test_throw_cpp);
Datum incmodel_test_throw_cpp(PG_FUNCTION_ARGS) {
    return entry_point([]() -> Datum { moved_to_test_extension("incmodel_test.throw_cpp"); });
}

PG_FUNCTION_INFO_V1(incmodel_test_guarded_error);
Datum incmodel_test_guarded_error(PG_FUNCTION_ARGS) {
    return entry_point([]() -> Datum { moved_to_test_extension("incmodel_test.guarded_error"); });
}

PG_FUNCTION_INFO_V1(incmodel_test_destructor_count);
Datum incmodel_test_destructor_count(PG_FUNCTION_ARGS) {
    return entry_point(
        []() -> Datum { moved_to_test_extension("incmodel_test.destructor_count"); });
}

PG_FUNCTION_INFO_V1(incmodel_test_busy_loop);
Datum incmodel_test_busy_loop(PG_FUNCTION_ARGS) {
    return entry_point([]() -> Datum { moved_to_test_extension("incmodel_test.busy_loop"); });
}

}  // extern "C"
