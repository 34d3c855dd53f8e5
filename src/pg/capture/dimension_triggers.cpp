#include "pg/capture/dimension_triggers.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "core/capture_triggers.hpp"
#include "pg/analysis/dimension_routes.hpp"
#include "pg/analysis/query_analysis.hpp"
#include "pg/analysis/relations_read.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/spi_client.hpp"
#include "pg/capture/change_capture.hpp"
#include "pg/capture/dimension_watch_plans.hpp"
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

// The watch triggers one relation of a watched tree carries for a shape (the relation itself
// carries the row triggers; its partitions carry their clones).
std::vector<std::string> triggers_for(const core::DimensionWatchShape &shape) {
    std::vector<std::string> names = core::dimension_row_trigger_names(shape);
    names.push_back(core::kDimensionTruncateTrigger);
    if (shape.rows)
        for (const char *t : {core::kDimensionInsertTrigger, core::kDimensionUpdateTrigger,
                              core::kDimensionDeleteTrigger})
            names.push_back(t);
    std::sort(names.begin(), names.end());
    return names;
}

// Whether every relation of the tree carries exactly the shape's watch triggers, enabled
// ALWAYS, the row triggers made for this shape (their argument is its signature).
bool watched_as(Oid relid, const core::DimensionWatchShape &shape) {
    const std::vector<std::string> wanted = triggers_for(shape);
    const std::string signature = shape.signature();
    const SqlResult r = spi_exec(
        "SELECT p.relid::pg_catalog.text AS relid, g.tgname::pg_catalog.text AS name, "
        "g.tgenabled OPERATOR(pg_catalog.=) 'A' AS always, pg_catalog.encode(g.tgargs, 'escape') "
        "AS args FROM (SELECT $1::pg_catalog.oid AS relid UNION SELECT relid FROM "
        "pg_catalog.pg_partition_tree($1::pg_catalog.oid)) p LEFT JOIN pg_catalog.pg_trigger g "
        "ON g.tgrelid OPERATOR(pg_catalog.=) p.relid AND g.tgname LIKE 'incmodel\\_dim%' "
        "ORDER BY 1, 2",
        {SqlParam::int64(relid)});
    std::map<std::string, std::vector<std::string>> found;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const NamedRow row(r, i);
        std::vector<std::string> &names = found[row.text("relid")];
        if (!row["name"]) continue;
        if (!row.boolean("always")) return false;
        const std::string name = row.text("name");
        const bool row_trigger =
            name == core::kDimensionTrigger || name == core::kDimensionOldTrigger;
        if (row_trigger && row.text("args") != signature + "\\000") return false;
        names.push_back(name);
    }
    for (auto &[rel, names] : found) {
        std::sort(names.begin(), names.end());
        if (names != wanted) return false;
    }
    return true;
}

// Drops every watch trigger of the tree: the row triggers on the relation itself first (their
// clones on partitions go with them), then each relation's own.
void drop_watch_triggers(const std::vector<std::string> &tree) {
    for (const char *t : {core::kDimensionTrigger, core::kDimensionOldTrigger})
        drop_trigger(t, tree.front());
    for (const auto &r : tree)
        for (const char *t : {core::kDimensionTruncateTrigger, core::kDimensionInsertTrigger,
                              core::kDimensionUpdateTrigger, core::kDimensionDeleteTrigger})
            drop_trigger(t, r);
}

// The TRUNCATE trigger and, for a shape with rows, the statement triggers of one relation of
// the tree.
void add_relation_watch_triggers(const std::string &relation,
                                 const core::DimensionWatchShape &shape) {
    spi_exec(core::create_dimension_truncate_trigger(relation));
    spi_exec(core::enable_always(relation, core::kDimensionTruncateTrigger));
    if (shape.rows)
        for (const auto &ddl : core::create_dimension_statement_triggers(relation)) spi_exec(ddl);
}

// Puts the shape's watch triggers on a relation and its partitions, replacing those of another
// shape (as the catalog owner: the caller's right was checked; no user code runs in the DDL).
void add_watch_triggers(Oid relid, const core::DimensionWatchShape &shape) {
    AsCatalogOwner owner;
    const std::vector<std::string> tree = relation_tree(relid);
    const std::string literal =
        *spi_exec("SELECT pg_catalog.quote_literal($1)", {SqlParam::value(tree.front())}).scalar();
    drop_watch_triggers(tree);
    for (const auto &r : tree) add_relation_watch_triggers(r, shape);
    for (const auto &ddl : core::create_dimension_row_triggers(tree.front(), literal, shape))
        spi_exec(ddl);
    // Clones on partitions too: PostgreSQL copies the mode only to partitions made later.
    for (const auto &r : tree)
        for (const auto &t : core::dimension_row_trigger_names(shape))
            spi_exec(core::enable_always(r, t));
}

// Gives the relation the watch triggers of the models that now watch it (nothing when they
// are already there).
void sync_watch_triggers(Oid relid) {
    const core::DimensionWatchShape shape = watch_shape(relid);
    if (!watched_as(relid, shape)) add_watch_triggers(relid, shape);
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
            dimension_mapping(m.query_tree, m.source_oid, m.spec.source_alias, r, m.target_oid);
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
    record_watch_plans(m, relids, !input_targets.empty() || !m.depends_on.empty());
    for (Oid r : relids) {
        const bool foreign = pg_call([r] { return get_rel_relkind(r) == RELKIND_FOREIGN_TABLE; });
        invalidate_watch_plans(r);
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
        sync_watch_triggers(r);
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
        const bool exists = pg_call([r] { return get_rel_name(r) != nullptr; });
        if (!exists) continue;
        invalidate_watch_plans(r);
        if (!may_add_triggers(r)) continue;  // another role's: left
        if (pg_call([r] { return get_rel_relkind(r) == RELKIND_FOREIGN_TABLE; })) continue;
        // Still watched: the triggers the remaining models need (fewer columns, perhaps).
        if (dimension_watched(r)) {
            sync_watch_triggers(r);
            continue;
        }
        AsCatalogOwner owner;
        drop_watch_triggers(relation_tree(r));
    }
}

void watch_new_partition(Oid partition, bool with_rows) {
    std::vector<Oid> watched;
    for (Oid r : with_ancestors(partition))
        if (r != partition && dimension_watched(r)) watched.push_back(r);
    if (watched.empty()) return;
    {
        core::DimensionWatchShape shape;
        for (Oid r : watched) shape.rows = shape.rows || watch_shape(r).rows;
        AsCatalogOwner owner;
        const std::string rel = regclass_text(partition);
        for (const char *t : {core::kDimensionTruncateTrigger, core::kDimensionInsertTrigger,
                              core::kDimensionUpdateTrigger, core::kDimensionDeleteTrigger})
            drop_trigger(t, rel);
        add_relation_watch_triggers(rel, shape);
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
        queue_full_recompute(w.model_id);
    }
}

}  // namespace incmodel::pg
