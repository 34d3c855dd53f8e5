// Test-only functions (schema incmodel_test, extension incmodel_test) that prove the
// C++/PostgreSQL boundary both ways. They are built into incmodel_test.so with their own copy of
// the guard code (src/pg/guard.cpp and friends); only superusers may call them (the script
// revokes the schema and the functions from PUBLIC).
#include <chrono>
#include <new>
#include <stdexcept>

#include "pg/boundary/fmgr_args.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/spi_client.hpp"

using namespace incmodel::pg;

namespace {

int destructors_run = 0;

// An object with a destructor, alive while an ERROR travels through C++.
struct DestructorProbe {
    ~DestructorProbe() { ++destructors_run; }
};

}  // namespace

extern "C" {

// Throws the C++ exception named by kind, to show it becomes an ERROR with a SQLSTATE.
PG_FUNCTION_INFO_V1(incmodel_test_throw_cpp);
Datum incmodel_test_throw_cpp(PG_FUNCTION_ARGS) {
    return entry_point([&]() -> Datum {
        std::string kind = text_arg(fcinfo, 0, "kind");
        DestructorProbe probe;
        if (kind == "std") throw std::runtime_error("boom from C++");
        if (kind == "user")
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE, "a user error from C++",
                            "with a detail", "and a hint");
        if (kind == "bad_alloc") throw std::bad_alloc();
        if (kind == "int") throw 42;
        return (Datum)0;
    });
}

// Runs sql through a guarded SPI call while a DestructorProbe is alive: an ERROR inside becomes
// a C++ exception (the probe's destructor runs) and surfaces with its original SQLSTATE.
PG_FUNCTION_INFO_V1(incmodel_test_guarded_error);
Datum incmodel_test_guarded_error(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        std::string sql = text_arg(fcinfo, 0, "sql");
        DestructorProbe probe;
        SpiConnection spi;
        SqlResult r = spi_exec(sql);
        return Int32GetDatum(static_cast<int>(r.processed));
    });
}

// How many DestructorProbes were destroyed in this backend: the tests compare it before and after.
PG_FUNCTION_INFO_V1(incmodel_test_destructor_count);
Datum incmodel_test_destructor_count(PG_FUNCTION_ARGS) {
    return entry_point([&] { return Int32GetDatum(destructors_run); });
}

// Spins in C++ for up to the given seconds, honouring interrupts: statement_timeout and
// pg_cancel_backend() stop it promptly.
PG_FUNCTION_INFO_V1(incmodel_test_busy_loop);
Datum incmodel_test_busy_loop(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        const double seconds = PG_GETARG_FLOAT8(0);
        DestructorProbe probe;
        const auto start = std::chrono::steady_clock::now();
        int64 iterations = 0;
        while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               seconds) {
            pg_call([] { CHECK_FOR_INTERRUPTS(); });
            ++iterations;
        }
        return Int64GetDatum(iterations);
    });
}

}  // extern "C"
