#include "pg/catalog/watchers_scan.hpp"

#include <algorithm>
#include <string>

#include "pg/boundary/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_index.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace incmodel::pg {

namespace {

// One watching row as read (plain C: built inside pg_call; strings palloc'd).
struct RawWatcher {
    int64 model_id;
    Oid relation;
    char *watch;  // nullptr: not recorded
    AttrNumber noted_column;
    char *name, *load_column, *on_dimension_change;
    Oid source, target;
    bool features, found;
};

// The relations and indexes the scan reads, by name in the incmodel schema, and the columns'
// numbers; ok false when one is missing.
struct Catalog {
    Oid dims, dims_by_relation, models, models_pkey;
    AttrNumber d_model_id, d_relation, d_watch, d_noted;
    AttrNumber m_model_id, m_name, m_source, m_target, m_load, m_depends, m_change;
    bool ok;
};

Catalog catalog() {
    Catalog c{};
    const Oid ns = get_namespace_oid("incmodel", true);
    if (!OidIsValid(ns)) return c;
    c.dims = get_relname_relid("model_dimensions", ns);
    c.dims_by_relation = get_relname_relid("model_dimensions_relation_idx", ns);
    c.models = get_relname_relid("models", ns);
    c.models_pkey = get_relname_relid("models_pkey", ns);
    if (!OidIsValid(c.dims) || !OidIsValid(c.dims_by_relation) || !OidIsValid(c.models) ||
        !OidIsValid(c.models_pkey))
        return c;
    c.d_model_id = get_attnum(c.dims, "model_id");
    c.d_relation = get_attnum(c.dims, "relation");
    c.d_watch = get_attnum(c.dims, "watch");
    c.d_noted = get_attnum(c.dims, "noted_column");
    c.m_model_id = get_attnum(c.models, "model_id");
    c.m_name = get_attnum(c.models, "name");
    c.m_source = get_attnum(c.models, "source");
    c.m_target = get_attnum(c.models, "target");
    c.m_load = get_attnum(c.models, "load_column");
    c.m_depends = get_attnum(c.models, "depends_on");
    c.m_change = get_attnum(c.models, "on_dimension_change");
    for (AttrNumber a : {c.d_model_id, c.d_relation, c.d_watch, c.d_noted, c.m_model_id, c.m_name,
                         c.m_source, c.m_target, c.m_load, c.m_depends, c.m_change})
        if (a == InvalidAttrNumber) return c;
    c.ok = true;
    return c;
}

// Whether index is a btree whose first column is the table's column att.
bool leads_with(Oid index, AttrNumber att) {
    Relation i = index_open(index, AccessShareLock);
    const bool leads = i->rd_rel->relam == BTREE_AM_OID && i->rd_index->indnatts >= 1 &&
                       i->rd_index->indkey.values[0] == att && i->rd_indpred == NIL &&
                       heap_attisnull(i->rd_indextuple, Anum_pg_index_indpred, nullptr);
    index_close(i, AccessShareLock);
    return leads;
}

// A text column's value (palloc'd C string), or nullptr when NULL.
char *text_at(HeapTuple t, TupleDesc d, AttrNumber a) {
    bool isnull;
    const Datum v = heap_getattr(t, a, d, &isnull);
    return isnull ? nullptr : TextDatumGetCString(v);
}

// The rows of relids in model_dimensions joined to their models (count in *n; palloc'd), read
// with snap. Plain C, inside pg_call. (systable_beginscan takes the table's column numbers in
// the keys and maps them to the index's.)
RawWatcher *scan(const Catalog &c, const Oid *relids, int nrelids, Snapshot snap, int *n) {
    int room = 8;
    auto *out = static_cast<RawWatcher *>(palloc0(sizeof(RawWatcher) * room));
    *n = 0;
    Relation dims = table_open(c.dims, AccessShareLock);
    for (int r = 0; r < nrelids; ++r) {
        ScanKeyData key;
        ScanKeyInit(&key, c.d_relation, BTEqualStrategyNumber, F_OIDEQ,
                    ObjectIdGetDatum(relids[r]));
        SysScanDesc s = systable_beginscan(dims, c.dims_by_relation, true, snap, 1, &key);
        for (HeapTuple t; (t = systable_getnext(s)) != nullptr;) {
            if (*n == room) {
                room *= 2;
                out = static_cast<RawWatcher *>(repalloc(out, sizeof(RawWatcher) * room));
            }
            RawWatcher &w = out[(*n)++];
            memset(&w, 0, sizeof(w));
            const TupleDesc d = RelationGetDescr(dims);
            bool isnull;
            w.model_id = DatumGetInt64(heap_getattr(t, c.d_model_id, d, &isnull));
            w.relation = DatumGetObjectId(heap_getattr(t, c.d_relation, d, &isnull));
            w.watch = text_at(t, d, c.d_watch);
            const Datum noted = heap_getattr(t, c.d_noted, d, &isnull);
            w.noted_column = isnull ? InvalidAttrNumber : DatumGetInt16(noted);
        }
        systable_endscan(s);
    }
    table_close(dims, AccessShareLock);
    if (*n == 0) return out;
    Relation models = table_open(c.models, AccessShareLock);
    const TupleDesc d = RelationGetDescr(models);
    for (int i = 0; i < *n; ++i) {
        RawWatcher &w = out[i];
        ScanKeyData key;
        ScanKeyInit(&key, c.m_model_id, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(w.model_id));
        SysScanDesc s = systable_beginscan(models, c.models_pkey, true, snap, 1, &key);
        HeapTuple t = systable_getnext(s);
        if (t != nullptr) {
            bool isnull;
            w.found = true;
            w.name = text_at(t, d, c.m_name);
            w.load_column = text_at(t, d, c.m_load);
            w.on_dimension_change = text_at(t, d, c.m_change);
            w.source = DatumGetObjectId(heap_getattr(t, c.m_source, d, &isnull));
            w.target = DatumGetObjectId(heap_getattr(t, c.m_target, d, &isnull));
            (void)heap_getattr(t, c.m_depends, d, &isnull);
            w.features = !isnull;
        }
        systable_endscan(s);
    }
    table_close(models, AccessShareLock);
    return out;
}

}  // namespace

std::optional<std::vector<DimensionWatcher>> scan_models_watching(const std::vector<Oid> &relids) {
    Catalog c{};
    pg_call([&c] {
        c = catalog();
        return true;
    });
    if (!c.ok) return std::nullopt;
    const bool indexed = pg_call([&c] {
        return leads_with(c.dims_by_relation, c.d_relation) &&
               leads_with(c.models_pkey, c.m_model_id);
    });
    if (!indexed) return std::nullopt;
    int n = 0;
    const Oid *rel = relids.data();
    const int nrel = static_cast<int>(relids.size());
    // As a query would read them: the transaction's own changes so far included (the SPI query
    // this replaces advanced the command counter too).
    RawWatcher *raw = pg_call([&c, rel, nrel, &n] {
        CommandCounterIncrement();
        Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
        RawWatcher *out = scan(c, rel, nrel, snap, &n);
        UnregisterSnapshot(snap);
        return out;
    });
    std::vector<DimensionWatcher> out;
    for (int i = 0; i < n; ++i) {
        const RawWatcher &r = raw[i];
        if (!r.found || r.on_dimension_change == nullptr ||
            strcmp(r.on_dimension_change, "ignore") == 0)
            continue;
        DimensionWatcher w;
        w.model_id = r.model_id;
        w.name = r.name != nullptr ? r.name : "";
        w.relation = r.relation;
        w.on_dimension_change = r.on_dimension_change;
        w.features = r.features;
        w.time_based = r.load_column != nullptr;
        w.source = r.source;
        w.load_column = r.load_column != nullptr ? r.load_column : "";
        w.target = r.target;
        w.watch = r.watch != nullptr ? r.watch : "";
        w.noted_column = r.noted_column;
        out.push_back(std::move(w));
    }
    std::sort(out.begin(), out.end(), [](const DimensionWatcher &a, const DimensionWatcher &b) {
        return a.name != b.name ? a.name < b.name : a.relation < b.relation;
    });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const DimensionWatcher &a, const DimensionWatcher &b) {
                              return a.model_id == b.model_id && a.relation == b.relation;
                          }),
              out.end());
    return out;
}

}  // namespace incmodel::pg
