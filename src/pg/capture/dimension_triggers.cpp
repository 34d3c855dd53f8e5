#include "pg/capture/dimension_triggers.hpp"

#include <string>

#include "core/capture_triggers.hpp"
#include "pg/analysis/dimension_routes.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/analysis/relations_read.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/catalog/change_log_rows.hpp"
#include "pg/catalog/key_queue.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
}

namespace incmodel::pg {

namespace {

// The relation and its partitions, every level, as regclass texts.
std::vector<std::string> relation_tree(Oid relid) {
    std::vector<std::string> out{regclass_text(relid)};
    for (auto &p : partitions_of(relid)) out.push_back(std::move(p));
    return out;
}

// Whether every watch trigger is on every relation of the tree, enabled ALWAYS.
bool watched_already(Oid relid) {
    return spi_exec(
               "SELECT NOT EXISTS (SELECT 1 FROM (SELECT $1::pg_catalog.oid AS relid UNION SELECT "
               "relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.oid)) p CROSS JOIN "
               "pg_catalog.unnest($2::pg_catalog.text[]) t(name) WHERE NOT EXISTS (SELECT 1 FROM "
               "pg_catalog.pg_trigger g WHERE g.tgrelid OPERATOR(pg_catalog.=) p.relid AND "
               "g.tgname OPERATOR(pg_catalog.=) t.name AND g.tgenabled OPERATOR(pg_catalog.=) "
               "'A'))",
               {SqlParam::int64(relid),
                SqlParam::text_array(std::vector<std::string>{
                    core::kDimensionTrigger, core::kDimensionTruncateTrigger,
                    core::kDimensionInsertTrigger, core::kDimensionUpdateTrigger,
                    core::kDimensionDeleteTrigger})})
               .scalar() == std::optional<std::string>("t");
}

// The statement triggers of the watch, dropped where they are.
void drop_statement_triggers(const std::string &relation) {
    for (const char *t : {core::kDimensionInsertTrigger, core::kDimensionUpdateTrigger,
                          core::kDimensionDeleteTrigger})
        drop_trigger(t, relation);
}

// Puts the two watch triggers on a relation and its partitions (as the catalog owner: the
// caller's right was checked; no user code runs in the DDL).
void add_watch_triggers(Oid relid) {
    AsCatalogOwner owner;
    const std::vector<std::string> tree = relation_tree(relid);
    const std::string literal =
        *spi_exec("SELECT pg_catalog.quote_literal($1)", {SqlParam::value(tree.front())}).scalar();
    for (const auto &r : tree) {
        drop_trigger(core::kDimensionTruncateTrigger, r);
        spi_exec(core::create_dimension_truncate_trigger(r));
        spi_exec(core::enable_always(r, core::kDimensionTruncateTrigger));
        drop_statement_triggers(r);
        for (const auto &ddl : core::create_dimension_statement_triggers(r)) spi_exec(ddl);
    }
    drop_trigger(core::kDimensionTrigger, tree.front());
    spi_exec(core::create_dimension_row_trigger(tree.front(), literal));
    // Clones on partitions too: PostgreSQL copies the mode only to partitions made later.
    for (const auto &r : tree) spi_exec(core::enable_always(r, core::kDimensionTrigger));
}

// A NOTICE when the source's column a dimension's route ends on has no index led by it: every
// refresh after a change to the dimension then scans the source.
void notice_unindexed_route(const ModelRecord &m, Oid dimension, const DimensionMapping &map) {
    if (map.source_attnum == InvalidAttrNumber) return;
    const bool indexed = has_index_led_by(m.source_oid, map.source_attnum);
    if (indexed) return;
    const Oid source = m.source_oid;
    const AttrNumber att = map.source_attnum;
    const char *col = pg_call([source, att] { return get_attname(source, att, false); });
    const std::string src = regclass_text(m.source_oid);
    report(NOTICE,
           "incmodel: a change to " + regclass_text(dimension) + " reaches the rows of " + src +
               " by " + quote_ident(col) + ", which has no index: refreshes after one will scan " +
               src,
           "", "CREATE INDEX ON " + src + " (" + quote_ident(col) + ");");
}

}  // namespace

std::vector<Oid> dimensions_of(const ModelRecord &m, const std::vector<Oid> &input_targets) {
    std::vector<Oid> relids;
    for (Oid r : relations_read(m.query_tree, m.source_oid)) {
        bool input = false;
        for (Oid t : input_targets) input = input || t == r;
        if (!input && r != m.target_oid) relids.push_back(r);
    }
    return relids;
}

void require_dimension_routes(const ModelRecord &m, const std::vector<Oid> &relids) {
    if (m.on_dimension_change != "recompute" || m.spec.time || !m.depends_on.empty()) return;
    for (Oid r : relids) {
        const DimensionMapping map =
            dimension_mapping(m.query_tree, m.source_oid, m.spec.source_alias, r);
        if (map.bounded) {
            notice_unindexed_route(m, r, map);
            continue;
        }
        throw UserError(ERRCODE_FEATURE_NOT_SUPPORTED,
                        "incmodel: model \"" + m.spec.name + "\" reads " + regclass_text(r) +
                            ", whose changes cannot be mapped to the keys they touch",
                        "The refresh maps a changed row to the source rows it joins through the "
                        "query's equalities (JOIN ... ON d.id = e.d_id, possibly through other "
                        "joined tables); here " +
                            map.description + ".",
                        "Pass on_dimension_change => 'rebuild' to recompute the whole model "
                        "after any change to it, or 'ignore' if it never changes rows the "
                        "model has read; or join it to the source by an equality in the "
                        "top-level FROM.");
    }
}

void watch_dimensions(const ModelRecord &m, const std::vector<Oid> &input_targets) {
    const std::vector<Oid> relids = dimensions_of(m, input_targets);
    record_model_dimensions(m.spec.id, relids);
    if (m.on_dimension_change == "ignore") return;
    for (Oid r : relids) {
        const bool foreign = pg_call([r] { return get_rel_relkind(r) == RELKIND_FOREIGN_TABLE; });
        if (!foreign && watched_already(r)) continue;
        if (foreign || !may_add_triggers(r)) {
            const std::string name = regclass_text(r);
            report(NOTICE,
                   "incmodel: model \"" + m.spec.name + "\" reads " + name +
                       ", whose changes its refreshes will not see",
                   foreign ? "It is a foreign table: its rows change on another server."
                           : "The caller may not put incmodel's watch triggers on it.",
                   foreign ? "Rebuild the model after the foreign data changes."
                           : "Create the model as its owner or a role with TRIGGER on it, or "
                             "rebuild the model after changing it.");
            continue;
        }
        add_watch_triggers(r);
    }
}

std::vector<Oid> watched_relations(const ModelRecord &m) {
    AsCatalogOwner owner;
    std::vector<Oid> out;
    for (const auto &row :
         spi_exec("SELECT relation::pg_catalog.oid::pg_catalog.text FROM "
                  "incmodel.model_dimensions WHERE model_id = $1::pg_catalog.int8",
                  {SqlParam::int64(m.spec.id)})
             .rows)
        out.push_back(static_cast<Oid>(std::stoul(*row[0])));
    return out;
}

void unwatch_dimensions(const std::vector<Oid> &relids) {
    for (Oid r : relids) {
        if (dimension_watched(r)) continue;
        const bool exists = pg_call([r] { return get_rel_name(r) != nullptr; });
        if (!exists || !may_add_triggers(r)) continue;  // dropped, or another role's: left
        if (pg_call([r] { return get_rel_relkind(r) == RELKIND_FOREIGN_TABLE; })) continue;
        AsCatalogOwner owner;
        const std::vector<std::string> tree = relation_tree(r);
        drop_trigger(core::kDimensionTrigger, tree.front());
        for (const auto &rel : tree) {
            drop_trigger(core::kDimensionTruncateTrigger, rel);
            drop_statement_triggers(rel);
        }
    }
}

void watch_new_partition(Oid partition, bool with_rows) {
    std::vector<Oid> watched;
    for (Oid r : with_ancestors(partition))
        if (r != partition && dimension_watched(r)) watched.push_back(r);
    if (watched.empty()) return;
    {
        AsCatalogOwner owner;
        const std::string rel = regclass_text(partition);
        drop_trigger(core::kDimensionTruncateTrigger, rel);
        spi_exec(core::create_dimension_truncate_trigger(rel));
        spi_exec(core::enable_always(rel, core::kDimensionTruncateTrigger));
        drop_statement_triggers(rel);
        for (const auto &ddl : core::create_dimension_statement_triggers(rel)) spi_exec(ddl);
    }
    // Rows that arrive with an attached partition were written where no trigger saw them.
    if (with_rows) notify_dimension_change(with_ancestors(partition));
}

void notify_dimension_change(const std::vector<Oid> &relids) {
    for (const DimensionWatcher &w : models_watching(relids)) {
        if (w.time_based) {
            log_modification(w.source, w.load_column);
            continue;
        }
        core::ModelSpec spec;
        spec.id = w.model_id;
        queue_full_recompute(core::RefreshPlanner(spec, quote_ident), w.model_id);
    }
}

}  // namespace incmodel::pg
