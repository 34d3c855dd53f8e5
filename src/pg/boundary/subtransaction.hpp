// An internal subtransaction around C++ code, as PL/pgSQL's exception block: a failure rolls back
// only the work inside, and the transaction stays usable.
#pragma once

#include <exception>
#include <functional>

namespace incmodel::pg {

// Runs fn in a subtransaction; returns its failure (nullptr when it succeeded), after rolling
// its work back. The memory context and resource owner are the caller's again on return.
std::exception_ptr in_subtransaction(const std::function<void()> &fn);

}  // namespace incmodel::pg
