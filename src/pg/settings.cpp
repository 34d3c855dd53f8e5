#include "pg/settings.hpp"

#include <cstring>
#include <exception>

#include "pg/guard.hpp"

namespace incmodel::pg {

bool progress_notices = true;
bool test_hooks_enabled = false;
char *fail_at_step = nullptr;

// Registers every GUC; called once from _PG_init.
void define_settings() {
    DefineCustomBoolVariable("incmodel.progress_notices",
                             "Emit a NOTICE as each step of a refresh or rebuild ends.", nullptr,
                             &progress_notices, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("incmodel.test_hooks",
                             "Enable incmodel's test-only functions and fault injection.",
                             "For incmodel's own test suite; never needed in production.",
                             &test_hooks_enabled, false, PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr,
                             nullptr, nullptr);
    DefineCustomStringVariable("incmodel.fail_at_step",
                               "Test-only: raise an ERROR at the end of the named refresh step.",
                               "Takes effect only when incmodel.test_hooks is on.", &fail_at_step,
                               "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("incmodel");
}

void maybe_inject_failure(const char *step) {
    if (!test_hooks_enabled || fail_at_step == nullptr || std::strcmp(fail_at_step, step) != 0)
        return;
    throw UserError(ERRCODE_RAISE_EXCEPTION,
                    std::string("incmodel: injected failure at step \"") + step + "\"",
                    "incmodel.fail_at_step is set (test hook).");
}

namespace {
void set_local(const char *name, const char *value) {
    pg_call([name, value] {
        (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, ERROR,
                                false);
    });
}
}  // namespace

// Generated SQL is fully qualified, so search_path only needs pg_catalog (and pg_temp last, so
// temporary objects can never shadow anything). Text forms of batch values must not depend on
// the caller's DateStyle; the model's TimeZone keeps date_trunc & co. as they were at creation.
PinnedSettings::PinnedSettings(const std::string &timezone)
    : nest_level_(pg_call([] { return NewGUCNestLevel(); })),
      open_(true),
      uncaught_at_start_(std::uncaught_exceptions()) {
    set_local("search_path", "pg_catalog, pg_temp");
    set_local("DateStyle", "ISO, YMD");
    set_local("IntervalStyle", "postgres");
    set_local("extra_float_digits", "1");
    if (!timezone.empty()) set_local("TimeZone", timezone.c_str());
}

void PinnedSettings::close() {
    if (!open_) return;
    open_ = false;
    const int level = nest_level_;
    pg_call([level] { AtEOXact_GUC(true, level); });
}

// On unwinding the (sub)transaction abort restores the settings; touching GUCs here would not.
PinnedSettings::~PinnedSettings() {
    if (std::uncaught_exceptions() > uncaught_at_start_) return;
    try {
        close();
    } catch (...) {
    }
}

}  // namespace incmodel::pg
