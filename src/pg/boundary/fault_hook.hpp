// The fault-injection point of the run driver, as a hook the production library never fills.
//
// incmodel.so has no fault setting and no test functions. At the end of every refresh step the
// run driver calls maybe_inject_failure(step); it asks the function published in PostgreSQL's
// rendezvous variable kFaultHookRendezvous, if any library set one. Only the test library
// incmodel_test.so (test/ext, never installed by a production build) sets it, in its _PG_init.
#pragma once

namespace incmodel::pg {

// The rendezvous variable (find_rendezvous_variable) that holds the hook, or NULL.
inline constexpr const char *kFaultHookRendezvous = "incmodel_fault_hook";

// Answers whether the named step should fail. It must not ERROR or throw: it is called from
// C++ code outside pg_call, in another library. incmodel raises the ERROR itself.
using FaultHook = bool (*)(const char *step);

// Raises the injected ERROR when a fault hook is set and asks this step to fail.
void maybe_inject_failure(const char *step);

}  // namespace incmodel::pg
