// The test library's fault injection: setting incmodel_test.fail_at_step (superuser only) makes
// the named refresh step of incmodel raise an ERROR after its statements ran and before its
// transaction ends. The library publishes fail_here() as incmodel's fault hook when it loads.
#include <cstring>

#include "pg/boundary/fault_hook.hpp"
#include "pg/boundary/pg_headers.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace {

char *fail_at_step = nullptr;

// The fault hook: whether incmodel_test.fail_at_step names this step. Never ERRORs.
bool fail_here(const char *step) {
    return fail_at_step != nullptr && std::strcmp(fail_at_step, step) == 0;
}

}  // namespace

extern "C" {

// Defines the setting and publishes the hook. PostgreSQL calls it outside any C++ frame, so an
// ERROR here (out of memory) needs no guard. The prefix incmodel_test is not reserved: the test
// cluster configurations also carry placeholders such as incmodel_test.eventgen.
void _PG_init(void) {
    DefineCustomStringVariable("incmodel_test.fail_at_step",
                               "Test-only: raise an ERROR at the end of the named incmodel refresh "
                               "step (plan, keys, recompute, commit, ...).",
                               "Defined by the incmodel_test library, never by incmodel itself.",
                               &fail_at_step, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr,
                               nullptr);
    void **slot = find_rendezvous_variable(incmodel::pg::kFaultHookRendezvous);
    *slot = reinterpret_cast<void *>(&fail_here);
}

}  // extern "C"
