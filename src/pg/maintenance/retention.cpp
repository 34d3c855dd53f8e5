// Retention (data expiration): events older than a source's retention interval are
// deleted in bounded chunks, one whole batch at a time, and only once every model reading the
// source has processed the whole batch (its manifest count covers every event of the batch).
// A pass holds the lock of every model reading the source, marks the batches it expires before
// deleting anything (incmodel.retention_expiring), and a later pass finishes what an interrupted
// one left. Retention refuses a source read by a model that could recompute a key from events it
// deleted (docs/RELIABILITY.md, retention).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/retention_steps.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary/fmgr_args.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/maintenance/maintenance.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/models/run_driver.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/catalog/retention_catalog.hpp"

using namespace incmodel::pg;

namespace {

// Setting or applying a source's retention takes its owner's rights (a superuser has them).
bool owns_source(Oid source) {
    return pg_call([source] { return pg_class_ownercheck(source, GetUserId()); });
}

void require_source_owner(Oid source) {
    if (!owns_source(source))
        throw UserError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "permission denied to manage retention of this source",
                        "Retention deletes the source's events as its owner; only the owner (or a "
                        "member of the owning role) may set or apply it.",
                        "Run it as the source's owner, or GRANT the owning role to this role.");
}

// The source's name rendered from its OID under the pinned search_path of the identity in force,
// so every later statement under that path names the same relation (a name rendered under the
// caller's path, e.g. unqualified for a table in public, would not resolve there).
std::string relation_text(Oid rel) {
    return *spi_exec("SELECT $1::oid::regclass::text", {SqlParam::int64(rel)}).scalar();
}

// The source's qualified name for messages, rendered as the catalog owner under a pinned path.
std::string source_name(Oid source) {
    AsCatalogOwner owner;
    return relation_text(source);
}

// Every statement that reads or deletes the source runs as the source's owner in a
// security-restricted operation (its triggers, policies and functions get the owner's rights,
// never the caller's), with pinned settings so batch values render the same way every time.
struct AsSourceOwner {
    explicit AsSourceOwner(Oid source) : owner(source), pinned("") {}
    AsModelOwner owner;
    PinnedSettings pinned;
};

// A subtransaction (subtransaction.hpp) whose failure is rethrown after fn's work is rolled back.
template <typename Fn>
void contained(Fn &&fn) {
    if (std::exception_ptr error = in_subtransaction(fn)) std::rethrow_exception(error);
}

std::vector<std::int64_t> ids_of(const std::vector<SourceModel> &models) {
    std::vector<std::int64_t> ids;
    for (const auto &m : models) ids.push_back(m.id);
    return ids;
}

// A key recomputed after retention deleted some of its events would lose their contribution
// silently, so retention refuses a source with a model whose recompute could read an event older
// than keep: a batch model that recomputes touched keys from all their events (no
// bounded_recompute), or from a window on another column than retention's or longer than keep;
// a daily model whose late rows reprocess whole event days further back than keep. Append
// models insert new keys only, and features models read their input's target: never refused.
// The catalog finds the first offending model, if any, with why (model_losing_history).
void require_history_kept(Oid source, const std::string &keep, const std::string &time_column) {
    const std::optional<HistoryAtRisk> risk = model_losing_history(source, keep, time_column);
    if (!risk) return;
    const std::string &model = risk->model;
    throw UserError(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "incmodel: retention of " + source_name(source) + " would lose history of model \"" +
            model + "\"",
        "Model \"" + model + "\" reads the source and " + risk->why + " (keep is " + keep +
            "): a key it recomputes after retention deleted some of its events would lose "
            "their contribution.",
        "Give the model window_column => '" + time_column +
            "', bounded_recompute => true and a lookback no longer than keep (a daily model a "
            "reprocess_days below keep), keep the events longer, or set no retention on this "
            "source.");
}

// As the source's owner: the whole batches of the source all of whose events are older than
// keep, with their event counts.
std::vector<BatchEvents> old_batches(const RetentionRule &r, const std::string &src,
                                     const std::string &batch_column) {
    SqlResult res = spi_exec(incmodel::core::retention_old_batches(src, quote_ident(batch_column),
                                                                   quote_ident(r.time_column)),
                             {SqlParam::value(r.keep)});
    std::vector<BatchEvents> out;
    for (const auto &row : res.rows) out.push_back({*row[0], std::stoll(*row[1])});
    return out;
}

// A deferred constraint trigger of the source would fire at commit, with the caller's rights;
// PostgreSQL refuses to queue one inside a security-restricted operation. The source's deferrable
// constraints are made immediate before each DELETE (for the rest of the transaction, which in a
// nonatomic call is the chunk's), so their triggers fire at the end of the DELETE, as the owner.
void make_constraints_immediate(Oid source) {
    SqlResult names = spi_exec(
        "SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' "
        "OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.conname) FROM pg_catalog.pg_trigger t "
        "JOIN pg_catalog.pg_constraint c ON c.oid OPERATOR(pg_catalog.=) t.tgconstraint "
        "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.connamespace "
        "WHERE t.tgrelid OPERATOR(pg_catalog.=) $1::oid AND t.tgdeferrable AND t.tgenabled "
        "OPERATOR(pg_catalog.<>) 'D' GROUP BY 1 ORDER BY 1",
        {SqlParam::int64(source)});
    if (names.rows.empty()) return;
    std::string list;
    for (const auto &row : names.rows) list += (list.empty() ? "" : ", ") + *row[0];
    spi_exec(incmodel::core::constraints_immediate(list));
}

// As the source's owner: deletes at most chunk_rows events of the given batches, those older
// than keep only (an event that arrived in an expiring batch since it was marked, with a recent
// time, stays: once the batch leaves the manifests it is a new batch and gets processed).
std::uint64_t delete_chunk(const RetentionRule &r, const SourceModel &m,
                           const std::vector<std::string> &batches) {
    // Batches every model has processed: the models keep what they had, so the DELETE is not a
    // modification the next refresh must rebuild for.
    SuppressCapture not_a_modification;
    AsSourceOwner owner(r.source);
    const std::string src = relation_text(r.source);
    const std::string del = incmodel::core::retention_delete_chunk(
        src, quote_ident(m.batch_column), m.batch_type, quote_ident(r.time_column));
    make_constraints_immediate(r.source);
    return spi_exec(del, {SqlParam::text_array(batches), SqlParam::int64(r.chunk_rows),
                          SqlParam::value(r.keep)})
        .processed;
}

// The plan of one pass: the models reading the source, its name, the batches to delete (those
// an earlier pass left unfinished, and those newly old and processed by every model).
struct Pass {
    std::vector<SourceModel> models;
    bool mixed_batch_columns = false;
    std::string src;
    std::vector<std::string> unfinished, fresh, batches;
};

// The models and the source's name, before the models are locked.
Pass models_pass(const RetentionRule &r) {
    Pass p;
    p.models = models_reading(r.source);
    AsSourceOwner owner(r.source);
    p.src = relation_text(r.source);
    for (const auto &m : p.models)
        if (m.batch_column != p.models[0].batch_column) p.mixed_batch_columns = true;
    return p;
}

// The batches, once the models are locked (the manifests no longer move).
void plan_batches(const RetentionRule &r, Pass &p) {
    // Batches an earlier pass marked expiring and did not finish (it failed, was cancelled or its
    // backend died between chunk commits): this pass finishes them.
    p.unfinished = expiring_batches(ids_of(p.models));
    std::vector<BatchEvents> old;
    {
        AsSourceOwner owner(r.source);
        old = old_batches(r, p.src, p.models[0].batch_column);
    }
    // Of the old batches, those every model reading the source has processed whole.
    for (auto &b : batches_processed_by_all(old, ids_of(p.models)))
        if (std::find(p.unfinished.begin(), p.unfinished.end(), b) == p.unfinished.end())
            p.fresh.push_back(b);
    p.batches = p.unfinished;
    p.batches.insert(p.batches.end(), p.fresh.begin(), p.fresh.end());
}

// The model lock of every model reading the source, held for the whole pass: session locks, so
// they survive the chunk commits (released when the pass ends, or with the backend). A refresh
// waits for them instead of planning between two chunks. A model being refreshed is not waited
// for: the pass is skipped, and the next one deletes its batches. Returns the busy model.
std::optional<std::string> lock_models(const std::vector<SourceModel> &models,
                                       std::vector<std::unique_ptr<ModelLock>> &locks) {
    for (const auto &m : models) {
        locks.push_back(std::make_unique<ModelLock>(m.id, true, true));
        if (!locks.back()->acquired()) return m.name;
    }
    return std::nullopt;
}

// One pass over one source: each step a subtransaction, chunks committed one by one when the
// call is nonatomic. A failure propagates after rolling back the failed step only.
void apply_one(SpiConnection &spi, const RetentionRule &r, std::int64_t &removed,
               std::string &reason) {
    Pass p;
    contained([&] { p = models_pass(r); });
    if (p.models.empty()) {
        report(NOTICE, "incmodel: no model reads " + p.src + "; retention deletes nothing");
        return;
    }
    if (p.mixed_batch_columns) {
        report(NOTICE, "incmodel: models of " + p.src +
                           " use different batch columns; retention deletes nothing");
        return;
    }
    contained([&] { require_history_kept(r.source, r.keep, r.time_column); });
    std::vector<std::unique_ptr<ModelLock>> locks;
    if (auto busy = lock_models(p.models, locks)) {
        reason = "skipped: model \"" + *busy + "\" is being refreshed";
        report(NOTICE,
               "incmodel: retention of " + p.src + " " + reason + "; the next pass retries");
        contained([&] {
            record_maintenance(r.source, "retention", reason, std::nullopt, std::nullopt, "",
                               "retention", 0);
        });
        if (spi.nonatomic()) spi.commit();
        return;
    }
    // Before the first DELETE (and committed with it when nonatomic), the batches this pass
    // expires are marked for every model reading the source. Until the pass is done a refresh
    // treats them as neither new nor shrunk, and a pass that ends early leaves them for the next.
    contained([&] {
        plan_batches(r, p);
        if (!p.fresh.empty()) mark_batches_expiring(ids_of(p.models), p.fresh);
    });
    if (spi.nonatomic()) spi.commit();  // the marks are durable before the first DELETE
    reason = fmt::format("{} batches older than {} by {}", p.batches.size(), r.keep, r.time_column);
    if (!p.unfinished.empty())
        reason += fmt::format(" ({} left by an interrupted pass)", p.unfinished.size());
    while (!p.batches.empty()) {
        std::uint64_t n = 0;
        contained([&] { n = delete_chunk(r, p.models[0], p.batches); });
        removed += static_cast<std::int64_t>(n);
        if (n == 0) break;
        if (spi.nonatomic()) spi.commit();  // bounded chunks: commit after each
    }
    // A batch that is gone from the source leaves the manifests (and the expiring marks) too:
    // should an event with its batch value arrive later, it is then a new batch and gets
    // processed. An event that arrived while the batch was expiring was left out of the plans
    // then, and a plan that reads the change log has gone past its insert: each expired batch is
    // logged again (an 'insert' range of that one value, in this transaction; only when a model
    // uses the log, whose refreshes prune it), so the next plan counts it.
    contained([&] {
        if (!p.batches.empty())
            forget_expired_batches(r.source, p.models[0].batch_column, ids_of(p.models), p.batches);
        record_maintenance(r.source, "retention", reason, std::nullopt, std::nullopt, "",
                           "retention", removed);
    });
    if (spi.nonatomic()) spi.commit();
}

// One source's pass, contained: a failure is logged in maintenance_log and as a WARNING, and
// the other sources are still processed. A query cancel, and errors that are neither
// PostgreSQL's nor incmodel's (out of memory in C++), still end the call.
void apply_contained(SpiConnection &spi, const RetentionRule &r) {
    std::int64_t removed = 0;
    std::string reason;
    std::string error;
    try {
        apply_one(spi, r, removed, reason);
        return;
    } catch (const PgException &e) {
        if (e.sqlerrcode() == ERRCODE_QUERY_CANCELED) throw;  // a cancel stops the whole call
        error = describe_error(std::current_exception()).text();
    } catch (const UserError &) {
        error = describe_error(std::current_exception()).text();
    }
    const std::string src = source_name(r.source);
    const std::string msg = "incmodel: retention of " + src + " failed: " + error;
    const char *m = msg.c_str();
    pg_call([m] {
        ereport(WARNING, (errmsg("%s", m),
                          errdetail("Events deleted in chunks committed before the failure stay "
                                    "deleted; the other sources are processed."),
                          errhint("See incmodel.maintenance_log; fix the cause and run "
                                  "incmodel.apply_retention() again.")));
    });
    record_maintenance(r.source, "retention", reason, std::nullopt, std::nullopt, error,
                       "retention", removed);
    if (spi.nonatomic()) spi.commit();
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(incmodel_set_retention);
Datum incmodel_set_retention(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        if (PG_ARGISNULL(0))
            throw UserError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "incmodel: source must not be NULL");
        const Oid source = PG_GETARG_OID(0);
        require_source_owner(source);
        SpiConnection spi;
        const SqlParam src = SqlParam::value(std::to_string(source));
        if (PG_ARGISNULL(1)) {
            delete_retention_rule(source);
            return (Datum)0;
        }
        Datum keep_datum = PG_GETARG_DATUM(1);
        std::string keep = pg_call([keep_datum] {
            return DatumGetCString(DirectFunctionCall1(interval_out, keep_datum));
        });
        bool positive =
            spi_exec("SELECT $1::interval > interval '0'", {SqlParam::value(keep)}).scalar() ==
            std::optional<std::string>("t");
        if (!positive)
            throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "incmodel: retention must keep a positive interval",
                            "keep is " + keep + ".", "Use e.g. '90 days', or NULL to remove it.");
        std::string column;
        if (!PG_ARGISNULL(2)) {
            column = *opt_text_arg(fcinfo, 2);
        } else {
            // The window column of a model of this source, else its batch column.
            std::optional<std::string> fallback = default_retention_column(source);
            if (!fallback)
                throw UserError(ERRCODE_INVALID_PARAMETER_VALUE,
                                "incmodel: time_column is required for a source no model reads");
            column = *fallback;
        }
        const int chunk = PG_ARGISNULL(3) ? 10000 : PG_GETARG_INT32(3);
        SqlResult type = spi_exec(
            "SELECT atttypid::regtype::text FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid "
            "AND attname = $2 AND attnum > 0 AND NOT attisdropped",
            {src, SqlParam::value(column)});
        if (!type.scalar())
            throw UserError(ERRCODE_UNDEFINED_COLUMN,
                            "incmodel: the source has no column \"" + column + "\"");
        const std::string t = *type.scalar();
        if (t != "timestamp without time zone" && t != "timestamp with time zone" && t != "date")
            throw UserError(ERRCODE_DATATYPE_MISMATCH,
                            "incmodel: retention's time column must be a timestamp or date");
        require_history_kept(source, keep, column);
        RetentionRule rule;
        rule.source = source;
        rule.keep = keep;
        rule.time_column = column;
        rule.chunk_rows = chunk;
        store_retention_rule(rule);
        return (Datum)0;
    });
}

PG_FUNCTION_INFO_V1(incmodel_apply_retention);
Datum incmodel_apply_retention(PG_FUNCTION_ARGS) {
    return entry_point([&] {
        SpiConnection spi(is_nonatomic_call(fcinfo));
        const std::vector<RetentionRule> rules =
            retention_rules(PG_ARGISNULL(0) ? std::nullopt : std::optional<Oid>(PG_GETARG_OID(0)));
        // A source named by the caller must be the caller's; applying every rule covers the
        // sources the caller owns (a superuser: all of them).
        if (!PG_ARGISNULL(0)) require_source_owner(PG_GETARG_OID(0));
        for (const auto &rule : rules) {
            if (!owns_source(rule.source)) {
                report(NOTICE, "incmodel: retention of " + source_name(rule.source) +
                                   " skipped: only its owner may apply it");
                continue;
            }
            apply_contained(spi, rule);
        }
        return (Datum)0;
    });
}

}  // extern "C"
