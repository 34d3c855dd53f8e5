#include "pg/capture/dimension_watch_plans.hpp"

#include <algorithm>
#include <optional>

#include "pg/analysis/dimension_routes.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/boundary/security.hpp"
#include "pg/boundary/subtransaction.hpp"
#include "pg/capture/source_triggers.hpp"
#include "pg/analysis/query_analysis.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

namespace incmodel::pg {

namespace {

// The plans of one set of relids, and the relations whose invalidation makes them stale.
struct CachedPlans {
    std::vector<Oid> relids;
    std::vector<Oid> involved;  // relids and the Values models' targets
    std::vector<WatchPlan> plans;
    bool stale = false;
};

// For the life of the backend (never freed); touched by the relcache callback, which only marks.
std::vector<CachedPlans> *cache = nullptr;
// Counts invalidations, so plans worked out while one arrived are not kept as current.
uint64 invalidations = 0;

// A relcache invalidation (InvalidOid: all of them): the plans that involve the relation are
// worked out again when next needed. Allocates nothing and cannot fail.
void on_relcache_invalidation(Datum, Oid relid) {
    invalidations++;
    if (cache == nullptr) return;
    for (CachedPlans &c : *cache)
        if (relid == InvalidOid ||
            std::find(c.involved.begin(), c.involved.end(), relid) != c.involved.end())
            c.stale = true;
}

// The names of the kinds in incmodel.model_dimensions.watch.
const char *kind_name(WatchKind k) {
    switch (k) {
        case WatchKind::Reprocess:
            return "reprocess";
        case WatchKind::Recompute:
            return "recompute";
        case WatchKind::Values:
            return "values";
        case WatchKind::Rows:
            return "rows";
    }
    return "recompute";
}

// The plan recorded with the watch, when there is one.
std::optional<WatchPlan> recorded_plan(const DimensionWatcher &w) {
    WatchPlan p;
    p.watcher = w;
    if (w.watch == "values" && w.noted_column != InvalidAttrNumber) {
        p.kind = WatchKind::Values;
        p.attnum = w.noted_column;
        p.target = w.target;
    } else if (w.watch == "rows") {
        p.kind = WatchKind::Rows;
    } else if (w.watch == "recompute") {
        p.kind = WatchKind::Recompute;
    } else if (w.watch == "reprocess") {
        p.kind = WatchKind::Reprocess;
    } else {
        return std::nullopt;
    }
    return p;
}

// What a change to w.relation does for the watching model, from its query.
WatchPlan plan_for(const DimensionWatcher &w) {
    WatchPlan p;
    p.watcher = w;
    if (w.time_based) {
        p.kind = WatchKind::Reprocess;
        return p;
    }
    if (w.features || w.on_dimension_change != "recompute") return p;
    std::exception_ptr failed = in_subtransaction([&] {
        const ModelRecord m = load_model(w.name);
        p.target = m.target_oid;
        for (const core::KeyPart &k : m.spec.keys)
            if (k.through && k.through->relid == w.relation) {
                p.kind = WatchKind::Rows;
                return;
            }
        // Deparsing the route calls the output functions of the query's constants: as the
        // model's owner (a writer's commit or a superuser's refresh may be what asks).
        AsModelOwner owner(m.target_oid);
        const DimensionMapping map = dimension_mapping(
            m.query_tree, m.source_oid, m.spec.source_alias, w.relation, m.target_oid);
        if (!map.bounded) return;
        p.kind = map.dimension_attnum != InvalidAttrNumber ? WatchKind::Values : WatchKind::Rows;
        p.attnum = map.dimension_attnum;
    });
    if (failed) {
        report(WARNING,
               "incmodel: how a change to " + regclass_text(w.relation) +
                   " reaches the keys of model \"" + w.name +
                   "\" could not be worked out; every change to it rebuilds the model",
               describe_error(failed).text(), "");
        p.kind = WatchKind::Recompute;
        p.attnum = InvalidAttrNumber;
    }
    return p;
}

}  // namespace

std::vector<WatchPlan> watch_plans(const std::vector<Oid> &relids) {
    if (cache == nullptr) {
        cache = new std::vector<CachedPlans>();
        pg_call([] { CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum)0); });
    }
    for (const CachedPlans &c : *cache)
        if (!c.stale && c.relids == relids) return c.plans;
    const uint64 before = invalidations;
    CachedPlans fresh;
    fresh.relids = relids;
    fresh.involved = relids;
    for (const DimensionWatcher &w : models_watching(relids)) {
        std::optional<WatchPlan> recorded = recorded_plan(w);
        fresh.plans.push_back(recorded ? *recorded : plan_for(w));
        if (OidIsValid(fresh.plans.back().target))
            fresh.involved.push_back(fresh.plans.back().target);
    }
    // An invalidation that arrived while the plans were worked out (the catalog reads above
    // process the queue) leaves them usable for this call only.
    fresh.stale = invalidations != before;
    auto slot = std::find_if(cache->begin(), cache->end(),
                             [&](const CachedPlans &c) { return c.relids == relids; });
    if (slot == cache->end()) {
        cache->push_back(fresh);
    } else {
        *slot = fresh;
    }
    return fresh.plans;
}

core::DimensionWatchShape watch_shape(Oid relid) {
    core::DimensionWatchShape shape;
    for (const WatchPlan &p : watch_plans({relid})) {
        if (p.watcher.relation != relid) continue;
        if (p.kind == WatchKind::Rows) shape.rows = true;
        if (p.kind == WatchKind::Values) shape.attnums.push_back(p.attnum);
    }
    std::sort(shape.attnums.begin(), shape.attnums.end());
    shape.attnums.erase(std::unique(shape.attnums.begin(), shape.attnums.end()),
                        shape.attnums.end());
    for (int a : shape.attnums) {
        const AttrNumber att = static_cast<AttrNumber>(a);
        const char *name = pg_call([relid, att] { return get_attname(relid, att, false); });
        shape.columns.push_back(quote_ident(name));
    }
    return shape;
}

void record_watch_plans(const ModelRecord &m, const std::vector<Oid> &relids, bool features) {
    for (DimensionWatcher w : models_watching(relids)) {
        if (w.model_id != m.spec.id) continue;
        w.features = w.features || features;
        const WatchPlan p = plan_for(w);
        record_dimension_watch(w.model_id, w.relation, kind_name(p.kind), p.attnum);
    }
}

void invalidate_watch_plans(Oid relid) {
    // At once here (the DDL that follows must see the new plans), at commit in other backends.
    on_relcache_invalidation((Datum)0, relid);
    pg_call([relid] { CacheInvalidateRelcacheByRelid(relid); });
}

}  // namespace incmodel::pg
