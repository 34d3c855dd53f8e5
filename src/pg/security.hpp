// Who may do what: catalog writes as the extension's owner, everything that touches user data as
// the caller; model locks.
#pragma once

#include <string>

#include "pg/pg_headers.hpp"

namespace incmodel::pg {

// The role that owns incmodel's catalog tables (the extension's owner).
Oid catalog_owner();

// Switches to the catalog owner for catalog reads and writes; restores the caller on scope exit.
class AsCatalogOwner {
  public:
    AsCatalogOwner();
    ~AsCatalogOwner();
    AsCatalogOwner(const AsCatalogOwner &) = delete;
    AsCatalogOwner &operator=(const AsCatalogOwner &) = delete;

  private:
    Oid saved_user_;
    int saved_context_;
};

// Refresh, rebuild, alter and drop need the rights of the target's owner, as REFRESH
// MATERIALIZED VIEW does; raises 42501 otherwise.
void require_target_owner(Oid target, const std::string &model, const char *action);

// The owner of a relation.
Oid relation_owner(Oid relid);

// The role name of an OID, for messages and ALTER ... OWNER.
std::string role_name(Oid role);

// The model lock: an advisory lock (key1 = kLockSpace, key2 = model id) visible in pg_locks.
inline constexpr int32 kLockSpace = 0x494E434D;  // 'INCM'

// Takes the lock; session-level locks survive the commits of a nonatomic refresh. Returns false
// when dont_wait is set and another session holds it.
bool lock_model(std::int64_t model_id, bool session, bool dont_wait);
void unlock_model(std::int64_t model_id);

}  // namespace incmodel::pg
