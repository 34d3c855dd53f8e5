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
-- The 0.1.0 script created them here; incmodel.so keeps only stubs of their symbols (so that
-- script still runs) and has no fault setting. RESTRICT: objects someone else put into the
-- schema stop the upgrade instead of being dropped with it.
DROP FUNCTION incmodel_test.throw_cpp(text);
DROP FUNCTION incmodel_test.guarded_error(text);
DROP FUNCTION incmodel_test.destructor_count();
DROP FUNCTION incmodel_test.busy_loop(float8);
DROP SCHEMA incmodel_test RESTRICT;


-- =============================================================================================
-- Maintenance and retention.
-- =============================================================================================

