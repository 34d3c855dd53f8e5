-- incmodel_test 0.3.0: test-only functions for incmodel's own test suite (test/ext).
\echo Use "CREATE EXTENSION incmodel_test" to load this file. \quit

-- Only superusers reach the schema and may run the functions.
CREATE SCHEMA incmodel_test;
REVOKE ALL ON SCHEMA incmodel_test FROM PUBLIC;

CREATE FUNCTION incmodel_test.throw_cpp(kind text) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_throw_cpp';
CREATE FUNCTION incmodel_test.guarded_error(sql text) RETURNS int
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_guarded_error';
CREATE FUNCTION incmodel_test.destructor_count() RETURNS int
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_destructor_count';
CREATE FUNCTION incmodel_test.busy_loop(seconds float8) RETURNS bigint
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_test_busy_loop';
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA incmodel_test FROM PUBLIC;
