#include "pg/security.hpp"

#include "pg/guard.hpp"
#include "pg/spi_client.hpp"
#include "storage/lock.h"

namespace incmodel::pg {

Oid relation_owner(Oid relid) {
    return pg_call([relid] {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for relation %u", relid);
        Oid owner = ((Form_pg_class)GETSTRUCT(tup))->relowner;
        ReleaseSysCache(tup);
        return owner;
    });
}

// Looked up on each use: cheap, and correct after ALTER EXTENSION ... OWNER or a restore.
Oid catalog_owner() {
    Oid models = pg_call([] {
        Oid nsp = get_namespace_oid("incmodel", false);
        Oid rel = get_relname_relid("models", nsp);
        if (!OidIsValid(rel)) elog(ERROR, "incmodel catalog table incmodel.models is missing");
        return rel;
    });
    return relation_owner(models);
}

AsCatalogOwner::AsCatalogOwner() {
    Oid owner = catalog_owner();
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
}

AsCatalogOwner::~AsCatalogOwner() {
    SetUserIdAndSecContext(saved_user_, saved_context_);
}

std::string role_name(Oid role) {
    const char *name = pg_call([role] { return GetUserNameFromId(role, false); });
    return name;
}

void require_target_owner(Oid target, const std::string &model, const char *action) {
    bool owner = pg_call([target] { return pg_class_ownercheck(target, GetUserId()); });
    if (owner) return;
    const char *relname = pg_call([target] { return get_rel_name(target); });
    throw UserError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                    std::string("permission denied to ") + action + " model \"" + model + "\"",
                    std::string("Only the owner of its target table \"") +
                        (relname ? relname : "?") + "\" (or a member of that role) may " + action +
                        " it.",
                    "Run it as the target's owner, or GRANT the owning role to this role.");
}

namespace {
LOCKTAG model_locktag(std::int64_t model_id) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32)kLockSpace, (uint32)model_id, 2);
    return tag;
}
}  // namespace

bool lock_model(std::int64_t model_id, bool session, bool dont_wait) {
    LOCKTAG tag = model_locktag(model_id);
    LockAcquireResult res = pg_call([&tag, session, dont_wait] {
        return LockAcquire(&tag, ExclusiveLock, session, dont_wait);
    });
    return res != LOCKACQUIRE_NOT_AVAIL;
}

void unlock_model(std::int64_t model_id) {
    LOCKTAG tag = model_locktag(model_id);
    pg_call([&tag] { (void)LockRelease(&tag, ExclusiveLock, true); });
}

}  // namespace incmodel::pg
