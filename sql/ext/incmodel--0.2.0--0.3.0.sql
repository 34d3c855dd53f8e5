-- incmodel 0.2.0 -> 0.3.0: safe in a shared database (docs/SECURITY.md).
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.3.0'" to load this file. \quit

-- =============================================================================================
-- Change log: written by the triggers as the catalog owner; nobody else writes it.
-- =============================================================================================


-- =============================================================================================
-- Catalog privacy: rows that carry data values are visible to the roles that may read them.
-- =============================================================================================


-- =============================================================================================
-- Dependent models: drop_model(..., cascade => true).
-- =============================================================================================


-- =============================================================================================
-- pg_dump / pg_restore: the catalog is dumped with the extension.
-- =============================================================================================


-- =============================================================================================
-- Nothing test-only in a production database: the test functions moved to extension
-- incmodel_test (test/ext), which only the test suite installs.
-- =============================================================================================


-- =============================================================================================
-- Maintenance and retention.
-- =============================================================================================
-- No SQL changes: the worker (owner rights, snapshot, per-table isolation) and retention (as the
-- source owner, by OID, per-source isolation) changed in the library only.
