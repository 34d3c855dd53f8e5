#include "pg/capture/source_triggers.hpp"

#include <string>

#include <fmt/format.h>

#include "core/capture_triggers.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/catalog/change_log_rows.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "common/md5.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace incmodel::pg {

namespace {

// The first 12 hex digits of md5(batch column): trigger names that stay short and distinct.
std::string column_digest(const std::string &batch_column) {
    char hex[33];
    const char *data = batch_column.data();
    const size_t len = batch_column.size();
    char *out = hex;
    bool ok = pg_call([data, len, out] {
        const char *errstr = nullptr;
        return pg_md5_hash(data, len, out, &errstr);
    });
    if (!ok) throw std::bad_alloc();
    return std::string(hex, 12);
}
std::string change_trigger_name(const std::string &batch_column) {
    return "incmodel_changes_" + column_digest(batch_column);
}
std::string row_trigger_name(const std::string &batch_column) {
    return "incmodel_rows_" + column_digest(batch_column);
}
using core::kDeleteTrigger;
using core::kModsTrigger;
using core::kTruncateTrigger;
using core::kUpdateTrigger;

SqlParam oid_param(Oid oid) {
    return SqlParam::value(std::to_string(oid));
}

}  // namespace

std::string regclass_text(Oid relid) {
    return *spi_exec("SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text",
                     {SqlParam::int64(relid)})
                .scalar();
}

std::vector<std::string> partitions_of(Oid relid) {
    std::vector<std::string> out;
    for (const auto &row : spi_exec("SELECT p.relid::pg_catalog.regclass::pg_catalog.text FROM "
                                    "pg_catalog.pg_partition_tree($1::pg_catalog.oid) p WHERE "
                                    "p.level > 0 ORDER BY p.level, 1",
                                    {oid_param(relid)})
                               .rows)
        out.push_back(*row[0]);
    return out;
}

bool may_add_triggers(Oid relid) {
    return pg_call([relid] {
        return pg_class_ownercheck(relid, GetUserId()) ||
               pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) == ACLCHECK_OK;
    });
}

void drop_trigger(const std::string &quoted_name, const std::string &relation) {
    const bool present = spi_exec(
                             "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid "
                             "OPERATOR(pg_catalog.=) $1::pg_catalog.regclass AND "
                             "pg_catalog.quote_ident(tgname) OPERATOR(pg_catalog.=) $2)",
                             {SqlParam::value(relation), SqlParam::value(quoted_name)})
                             .scalar() == std::optional<std::string>("t");
    if (present) spi_exec(core::drop_trigger(quoted_name, relation));
}

void add_partition_capture_triggers(const std::string &relation) {
    for (const auto &statement : core::create_relation_capture_triggers(relation))
        spi_exec(statement);
}

namespace {

// Whether every name of names is a trigger of the relation enabled ALWAYS (from its relcache
// entry: no catalog query).
bool carries_always(Oid relid, const std::vector<std::string> &names) {
    return pg_call([relid, &names] {
        Relation rel = table_open(relid, AccessShareLock);
        bool all = true;
        for (const std::string &name : names) {
            bool found = false;
            for (int i = 0; rel->trigdesc != nullptr && i < rel->trigdesc->numtriggers; ++i) {
                const Trigger &t = rel->trigdesc->triggers[i];
                if (name == t.tgname && t.tgenabled == TRIGGER_FIRES_ALWAYS) found = true;
            }
            all = all && found;
        }
        table_close(rel, AccessShareLock);
        return all;
    });
}

}  // namespace

bool change_trigger_active(const ModelRecord &m) {
    // Every relation of the partition tree must carry the row triggers (clones) and the
    // statement triggers of TRUNCATE, UPDATE and DELETE, the source itself the INSERT statement
    // trigger too, all enabled ALWAYS. Read from the relcache (every refresh asks, and SQL over
    // pg_partition_tree and pg_trigger cost a small one ~1 ms in a fresh backend).
    const Oid source = m.source_oid;
    std::vector<std::string> each{row_trigger_name(m.spec.batch_column), kModsTrigger,
                                  kTruncateTrigger, kUpdateTrigger, kDeleteTrigger};
    std::vector<std::string> own = each;
    own.push_back(change_trigger_name(m.spec.batch_column));
    if (!carries_always(source, own)) return false;
    const bool partitioned =
        pg_call([source] { return get_rel_relkind(source) == RELKIND_PARTITIONED_TABLE; });
    if (!partitioned) return true;
    List *tree =
        pg_call([source] { return find_all_inheritors(source, AccessShareLock, nullptr); });
    ListCell *lc;
    foreach (lc, tree) {
        const Oid relid = lfirst_oid(lc);
        if (relid != source && !carries_always(relid, each)) return false;
    }
    return true;
}

bool ensure_change_trigger(const ModelRecord &m) {
    const Oid source = m.source_oid;
    char kind = pg_call([source] { return get_rel_relkind(source); });
    const bool allowed = may_add_triggers(source);
    const bool table = kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE;
    const std::string src = core::qualified(quote_ident, m.spec.source);
    if (!table || !allowed) {
        const std::string consequence =
            m.spec.time ? "; rows a loader commits behind the model's load limit will not be seen"
                        : "; each refresh will count the source's batches to find new ones";
        report(NOTICE, "incmodel: no change-log trigger on " + src + consequence, "",
               !table ? "The source is not a table."
               : m.spec.time
                   ? "Create the model as the source's owner or a role with TRIGGER on it."
                   : "Create the model as the source's owner or a role with TRIGGER on it to "
                     "make refreshes cost what the new events cost.");
        return false;
    }
    if (change_trigger_active(m)) return true;
    // The caller may add triggers to the source; the DDL itself runs as the catalog owner, which
    // may also set them ALWAYS (an owner's right) and reach partitions other roles own. No user
    // code runs in it.
    AsCatalogOwner owner;
    const std::string column = quote_ident(m.spec.batch_column);
    const std::string column_literal =
        *spi_exec("SELECT pg_catalog.quote_literal($1)", {SqlParam::value(m.spec.batch_column)})
             .scalar();
    const std::string source_literal =
        *spi_exec("SELECT pg_catalog.quote_literal($1)", {SqlParam::value(src)}).scalar();
    const std::vector<std::string> partitions = partitions_of(source);
    // What is there (a set left half-present, disabled by hand, or of an older release) is
    // replaced as a whole.
    const std::string rows = quote_ident(row_trigger_name(m.spec.batch_column));
    const std::string stmt = quote_ident(change_trigger_name(m.spec.batch_column));
    for (const auto &t : {rows, stmt, std::string(kModsTrigger)}) drop_trigger(t, src);
    std::vector<std::string> relations{src};
    relations.insert(relations.end(), partitions.begin(), partitions.end());
    for (const auto &r : relations)
        for (const char *t : {kTruncateTrigger, kUpdateTrigger, kDeleteTrigger}) drop_trigger(t, r);
    spi_exec(core::create_insert_row_trigger(rows, src, source_literal, column_literal, column));
    spi_exec(core::create_insert_statement_trigger(stmt, src, column_literal));
    spi_exec(core::create_modification_row_trigger(src, source_literal));
    for (const auto &r : relations) {
        add_partition_capture_triggers(r);
        // Clones on partitions too: PostgreSQL copies the mode only to partitions made later.
        for (const auto &t : {rows, std::string(kModsTrigger)}) spi_exec(core::enable_always(r, t));
    }
    spi_exec(core::enable_always(src, stmt));
    return true;
}

void drop_change_trigger_if_unused(const ModelRecord &m) {
    const ChangeLogUse use = change_log_use(m.source_oid, m.spec.batch_column);
    if (use.column) return;
    forget_log_rows(m.source_oid, m.spec.batch_column, use.source);
    const bool source_used = use.source;
    const Oid source = m.source_oid;
    bool owner = pg_call([source] { return pg_class_ownercheck(source, GetUserId()); });
    const std::string rel = core::qualified(quote_ident, m.spec.source);
    const std::string stmt = quote_ident(change_trigger_name(m.spec.batch_column));
    if (!owner) {
        report(NOTICE, "incmodel: the change-log triggers of " + rel +
                           " are no longer used; its owner may drop them");
        return;
    }
    AsCatalogOwner as_catalog_owner;
    drop_trigger(stmt, rel);
    drop_trigger(quote_ident(row_trigger_name(m.spec.batch_column)), rel);
    if (source_used) return;
    drop_trigger(kModsTrigger, rel);
    std::vector<std::string> relations{rel};
    for (const auto &p : partitions_of(source)) relations.push_back(p);
    for (const auto &r : relations)
        for (const char *t : {kTruncateTrigger, kUpdateTrigger, kDeleteTrigger}) drop_trigger(t, r);
}

bool source_modified_since_plan(const ModelRecord &m) {
    return m.change_log && modification_logged_since(m.source_oid, m.planned_snapshot);
}

LoggedLoads loads_since_plan(const ModelRecord &m) {
    LoggedLoads out;
    if (!m.change_log || !m.planned_snapshot || !change_trigger_active(m)) return out;
    out.used = true;
    for (const LogRow &row :
         log_rows_since(m.source_oid, m.spec.batch_column, *m.planned_snapshot)) {
        if (row.kind == "modify") {
            out.modified = true;
            continue;
        }
        out.nulls += row.range.nulls;
        if (!row.range.lo) continue;
        out.los.push_back(*row.range.lo);
        out.his.push_back(*row.range.hi);
    }
    return out;
}

std::string capture_snapshot() {
    // Only an own xid below xmax needs adding: one at or above xmax is invisible already, and
    // raising xmax would make the transactions between xmax and it (never listed in xip) look
    // visible. Without it, a load later in the same transaction (create_model, then INSERT,
    // then COMMIT; a refresh inside a transaction block, then a load) would look already seen
    // whenever a newer transaction had completed.
    return *spi_exec(
                "SELECT CASE WHEN x IS NULL OR x >= pg_catalog.pg_snapshot_xmax(s) THEN s::text "
                "ELSE least(pg_catalog.pg_snapshot_xmin(s), x)::text || ':' || "
                "pg_catalog.pg_snapshot_xmax(s)::text || ':' || (SELECT string_agg(t::text, ',' "
                "ORDER BY t::text::int8) FROM (SELECT pg_catalog.pg_snapshot_xip(s) AS t UNION "
                "SELECT x) u) END FROM (SELECT pg_catalog.pg_current_snapshot() AS s, "
                "pg_catalog.pg_current_xact_id_if_assigned() AS x) v")
                .scalar();
}

}  // namespace incmodel::pg
