#include "pg/catalog/relation_facts.hpp"

#include "pg/boundary/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"
}

namespace incmodel::pg {

bool index_leads_with(Oid relid, AttrNumber attnum, bool usable_only) {
    if (attnum == InvalidAttrNumber) return false;
    return pg_call([relid, attnum, usable_only] {
        // The lock the plan's statements over the source take next anyway.
        Relation rel = relation_open(relid, AccessShareLock);
        List *indexes = RelationGetIndexList(rel);
        bool found = false;
        ListCell *lc;
        foreach (lc, indexes) {
            HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
            if (!HeapTupleIsValid(tup)) continue;
            auto *index = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
            found = index->indnatts >= 1 && index->indkey.values[0] == attnum &&
                    (!usable_only ||
                     (index->indisvalid && heap_attisnull(tup, Anum_pg_index_indpred, nullptr)));
            ReleaseSysCache(tup);
            if (found) break;
        }
        list_free(indexes);
        relation_close(rel, NoLock);
        return found;
    });
}

AttrNumber attnum_of_quoted(Oid relid, const std::string &quoted_name) {
    const char *wanted = quoted_name.c_str();
    return pg_call([relid, wanted] {
        Relation rel = relation_open(relid, AccessShareLock);
        TupleDesc desc = RelationGetDescr(rel);
        AttrNumber found = InvalidAttrNumber;
        for (int i = 0; i < desc->natts && found == InvalidAttrNumber; ++i) {
            Form_pg_attribute att = TupleDescAttr(desc, i);
            if (att->attisdropped) continue;
            if (strcmp(quote_identifier(NameStr(att->attname)), wanted) == 0) found = att->attnum;
        }
        relation_close(rel, NoLock);
        return found;
    });
}

double relation_tuples(Oid relid) {
    return pg_call([relid] {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tup)) return 0.0;
        const double tuples = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->reltuples;
        ReleaseSysCache(tup);
        return tuples;
    });
}

std::int64_t relation_bytes(Oid relid) {
    return pg_call([relid] {
        Relation rel = try_relation_open(relid, AccessShareLock);
        if (rel == nullptr) return static_cast<std::int64_t>(0);
        const std::int64_t bytes =
            RELKIND_HAS_STORAGE(rel->rd_rel->relkind)
                ? static_cast<std::int64_t>(RelationGetNumberOfBlocks(rel)) * BLCKSZ
                : 0;
        relation_close(rel, AccessShareLock);
        return bytes;
    });
}

std::optional<core::QualifiedName> non_default_collation(Oid relid, const std::string &column) {
    const char *name = column.c_str();
    const char *schema = nullptr;
    const char *collation = nullptr;
    pg_call([relid, name, &schema, &collation] {
        const AttrNumber att = get_attnum(relid, name);
        if (att == InvalidAttrNumber) return;
        Oid type = InvalidOid, coll = InvalidOid;
        int32 typmod = -1;
        get_atttypetypmodcoll(relid, att, &type, &typmod, &coll);
        if (coll == get_typcollation(type)) return;
        HeapTuple tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(coll));
        if (!HeapTupleIsValid(tup)) return;
        auto *form = reinterpret_cast<Form_pg_collation>(GETSTRUCT(tup));
        collation = pstrdup(NameStr(form->collname));
        schema = get_namespace_name(form->collnamespace);
        ReleaseSysCache(tup);
    });
    if (schema == nullptr || collation == nullptr) return std::nullopt;
    return core::QualifiedName{schema, collation};
}

}  // namespace incmodel::pg
