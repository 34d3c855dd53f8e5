-- incmodel 0.4.0 -> 0.5.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.5.0'" to load this file. \quit

-- ---- export: commit => 'append' (DELETE + APPEND commit of Redshift packages; issue 16) ----
-- incmodel.export() takes the commit pattern of the package: 'delete_insert' (the default: DELETE
-- of the touched keys and INSERT of their rows in the procedure's one transaction) or 'append'
-- (the procedure commits the DELETE and the rows in a permanent staging table; the post-commit
-- step moves them to the target with ALTER TABLE APPEND, emulated on PostgreSQL). docs/REDSHIFT.md.
DROP FUNCTION incmodel.export(text, text);
CREATE FUNCTION incmodel.export(name text, dialect text DEFAULT 'redshift',
                                commit text DEFAULT 'delete_insert')
    RETURNS TABLE (step int, part text, sql text)
    LANGUAGE c VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_export';
COMMENT ON FUNCTION incmodel.export IS
    'The ordered parts (ddl, procedure, dispatcher, post_commit, maintenance) of a package that refreshes the model on Redshift or on a PostgreSQL without incmodel; commit => ''append'' commits by DELETE + APPEND.';
