#include "pg/boundary/fault_hook.hpp"

#include <string>

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

namespace {

// The rendezvous slot, looked up once per backend (it lives for the backend's lifetime).
void **fault_hook_slot() {
    static void **slot = nullptr;
    if (slot == nullptr)
        slot = pg_call([] { return find_rendezvous_variable(kFaultHookRendezvous); });
    return slot;
}

}  // namespace

// The fault-injection point: a no-op unless a test library published a hook.
void maybe_inject_failure(const char *step) {
    auto hook = reinterpret_cast<FaultHook>(*fault_hook_slot());
    if (hook == nullptr || !hook(step)) return;
    throw UserError(ERRCODE_RAISE_EXCEPTION,
                    std::string("incmodel: injected failure at step \"") + step + "\"",
                    "The fault hook of the incmodel_test library asked this step to fail.");
}

}  // namespace incmodel::pg
