#include "pg/boundary/security.hpp"

#include <exception>

#include "pg/boundary/guard.hpp"
#include "pg/boundary/settings.hpp"
#include "pg/boundary/spi_client.hpp"
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

AsRole::AsRole(Oid role, int extra_context) : uncaught_at_start_(std::uncaught_exceptions()) {
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    nest_level_ = pg_call([] { return NewGUCNestLevel(); });
    SetUserIdAndSecContext(role, saved_context_ | SECURITY_LOCAL_USERID_CHANGE | extra_context);
    // Names never resolve through the caller's path (its operators, its temporary domains).
    try {
        set_local_setting("search_path", "pg_catalog, pg_temp");
    } catch (...) {
        SetUserIdAndSecContext(saved_user_, saved_context_);
        throw;
    }
}

// The identity is restored even while an error unwinds (nothing here can fail); the settings are
// left to the (sub)transaction abort then, as PinnedSettings does.
AsRole::~AsRole() {
    SetUserIdAndSecContext(saved_user_, saved_context_);
    if (std::uncaught_exceptions() > uncaught_at_start_) return;
    const int level = nest_level_;
    try {
        pg_call([level] { AtEOXact_GUC(true, level); });
    } catch (...) {
    }
}

AsCatalogOwner::AsCatalogOwner() : AsRole(catalog_owner(), 0) {}

AsModelOwner::AsModelOwner(Oid target)
    : AsRole(relation_owner(target), SECURITY_RESTRICTED_OPERATION) {}

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
