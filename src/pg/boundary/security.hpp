// Who may do what: catalog reads and writes as the extension's owner, a model's own SQL as its
// target's owner in a security-restricted operation (as REFRESH MATERIALIZED VIEW runs a view's
// query), both under a pinned search_path; model locks. docs/SECURITY.md has the threat model.
#pragma once

#include <string>

#include "pg/boundary/pg_headers.hpp"

namespace incmodel::pg {

// The role that owns incmodel's catalog tables (the extension's owner).
Oid catalog_owner();

// Runs the enclosed SQL as another role with search_path pinned to pg_catalog, pg_temp; restores
// the previous user (and, unless an error is unwinding, the previous settings) on scope exit.
// The base of the two identities below; not used on its own.
class AsRole {
  public:
    AsRole(Oid role, int extra_context);
    ~AsRole();
    AsRole(const AsRole &) = delete;
    AsRole &operator=(const AsRole &) = delete;

  private:
    Oid saved_user_;
    int saved_context_;
    int nest_level_;
    int uncaught_at_start_;
};

// The catalog owner (the extension's owner), for incmodel's own catalog statements only: they are
// fully qualified, take values as parameters and never read a relation another role can write
// (scratch tables, targets, sources), so nothing a tenant controls runs with these rights.
class AsCatalogOwner : public AsRole {
  public:
    AsCatalogOwner();
};

// A model's owner (the owner of its target), for every statement that evaluates the model's SQL
// or touches its tables: a security-restricted operation, as REFRESH MATERIALIZED VIEW and
// autovacuum run a table owner's code, so a superuser scheduler lends it no rights and the
// owner's functions cannot change the session (SET ROLE, temporary objects, cursors WITH HOLD).
class AsModelOwner : public AsRole {
  public:
    explicit AsModelOwner(Oid target);
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
