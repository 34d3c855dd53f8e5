#include "pg/boundary/subtransaction.hpp"

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

std::exception_ptr in_subtransaction(const std::function<void()> &fn) {
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(context);
    std::exception_ptr error;
    try {
        fn();
    } catch (...) {
        error = std::current_exception();
    }
    if (error)
        pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    else
        pg_call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    return error;
}

}  // namespace incmodel::pg
