#include "pg/boundary/settings.hpp"

#include <exception>

#include "pg/boundary/guard.hpp"

namespace incmodel::pg {

bool progress_notices = true;
double vacuum_dead_ratio = 0.2;
int vacuum_dead_min = 1000;
double analyze_mod_ratio = 0.1;
int analyze_mod_min = 1000;
int maintenance_naptime = 60;
char *maintenance_database = nullptr;
int maintenance_time_budget = 300;
int dimension_values_limit = 2'000'000;

// Registers every GUC; called once from _PG_init.
void define_settings() {
    DefineCustomBoolVariable("incmodel.progress_notices",
                             "Emit a NOTICE as each step of a refresh or rebuild ends.", nullptr,
                             &progress_notices, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("incmodel.vacuum_dead_ratio",
                             "Dead tuples, as a share of the table, at which incmodel vacuums it.",
                             "A model's own vacuum_dead_ratio (alter_model) overrides it.",
                             &vacuum_dead_ratio, 0.2, 0.0, 1.0, PGC_USERSET, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomIntVariable(
        "incmodel.vacuum_dead_min", "Fewest dead tuples for which incmodel vacuums a table.",
        nullptr, &vacuum_dead_min, 1000, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("incmodel.analyze_mod_ratio",
                             "Rows modified since the last ANALYZE, as a share of the table, at "
                             "which incmodel analyzes it.",
                             "A model's own analyze_mod_ratio (alter_model) overrides it.",
                             &analyze_mod_ratio, 0.1, 0.0, 100.0, PGC_USERSET, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomIntVariable(
        "incmodel.analyze_mod_min", "Fewest modified rows for which incmodel analyzes a table.",
        nullptr, &analyze_mod_min, 1000, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("incmodel.maintenance_naptime",
                            "Seconds between cycles of the maintenance worker; 0 turns it off.",
                            "The worker runs when incmodel is in shared_preload_libraries.",
                            &maintenance_naptime, 60, 0, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr,
                            nullptr, nullptr);
    DefineCustomStringVariable(
        "incmodel.maintenance_database",
        "The database whose incmodel tables the maintenance worker keeps.",
        "Read when the worker starts (with the server); changing it takes a restart.",
        &maintenance_database, "postgres", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("incmodel.maintenance_time_budget",
                            "Seconds after which a maintenance cycle starts no further action.",
                            nullptr, &maintenance_time_budget, 300, 1, 86400, PGC_SIGHUP,
                            GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "incmodel.dimension_values_limit",
        "Most values a transaction's row triggers note for one watched relation.",
        "Past it the models that map the relation's changed values to keys recompute whole "
        "(memory stays bounded; a change that large reaches most keys anyway).",
        &dimension_values_limit, 2'000'000, 0, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("incmodel");
}

void set_local_setting(const char *name, const char *value) {
    pg_call([name, value] {
        (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                                ERROR, false);
    });
}

void set_transaction_setting(const char *name, const char *value) {
    pg_call([name, value] {
        (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true,
                                ERROR, false);
    });
}

// Generated SQL is fully qualified, so search_path only needs pg_catalog (and pg_temp last, so
// temporary objects can never shadow anything). Text forms of batch values must not depend on
// the caller's DateStyle; the model's TimeZone keeps date_trunc & co. as they were at creation.
PinnedSettings::PinnedSettings(const std::string &timezone)
    : nest_level_(pg_call([] { return NewGUCNestLevel(); })),
      open_(true),
      uncaught_at_start_(std::uncaught_exceptions()) {
    set_local_setting("search_path", "pg_catalog, pg_temp");
    set_local_setting("DateStyle", "ISO, YMD");
    set_local_setting("IntervalStyle", "postgres");
    set_local_setting("extra_float_digits", "1");
    if (!timezone.empty()) set_local_setting("TimeZone", timezone.c_str());
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
