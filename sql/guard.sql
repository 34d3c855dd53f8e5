-- The C++/PostgreSQL boundary, both ways (test-only functions of extension incmodel_test).
\set VERBOSITY default
-- Only superusers reach them: the incmodel_test extension revokes its schema and functions
-- from PUBLIC.
CREATE ROLE im_guard_nobody;
SET ROLE im_guard_nobody;
SELECT incmodel_test.throw_cpp('std');
RESET ROLE;
DROP ROLE im_guard_nobody;

-- C++ exceptions become ERRORs with a SQLSTATE (and incmodel's detail and hint), and the
-- session keeps working. testkit.error_of() shows SQLSTATE, message, detail and hint.
SELECT incmodel_test.throw_cpp('std');
SELECT * FROM testkit.error_of($$SELECT incmodel_test.throw_cpp('std')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel_test.throw_cpp('user')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel_test.throw_cpp('bad_alloc')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel_test.throw_cpp('int')$$);
SELECT 1 AS still_working;

-- An ERROR inside a guarded PostgreSQL call becomes a C++ exception (the destructor of the
-- object alive in that frame runs), then reaches the client with its original SQLSTATE.
SELECT incmodel_test.destructor_count() AS before \gset
SELECT incmodel_test.guarded_error('SELECT 1/0');
SELECT * FROM testkit.error_of($$SELECT incmodel_test.guarded_error('SELECT 1/0')$$);
SELECT * FROM testkit.error_of($$SELECT incmodel_test.guarded_error('SELECT * FROM no_such_table')$$);
SELECT incmodel_test.destructor_count() - :before AS destructors_ran;
SELECT incmodel_test.guarded_error('SELECT 1 FROM generate_series(1, 3)') AS rows_without_error;

-- The same inside a transaction block with a savepoint: the transaction recovers normally.
BEGIN;
SAVEPOINT s;
SELECT incmodel_test.guarded_error('SELECT ''x''::int');
ROLLBACK TO SAVEPOINT s;
SELECT 2 AS after_rollback_to_savepoint;
COMMIT;

-- Query cancel reaches long C++ work promptly (statement_timeout), and destructors still run.
SELECT incmodel_test.destructor_count() AS before \gset
SET statement_timeout = '200ms';
SELECT incmodel_test.busy_loop(30);
RESET statement_timeout;
SELECT incmodel_test.destructor_count() - :before AS destructors_ran;
SELECT incmodel_test.busy_loop(0.01) > 0 AS loop_runs;
