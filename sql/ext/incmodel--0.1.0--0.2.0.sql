-- incmodel 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- Change log without a transition table. The row trigger's WHEN clause calls this function,
-- which widens a backend-local range of the inserted batch values and returns false, so the row
-- trigger never fires and COPY keeps its multi-insert path; the statement trigger
-- (incmodel.log_source_change) writes the range. It runs once per inserted row, so it carries no
-- SET clause (a pinned setting would cost a GUC save/restore per row); it resolves no names.
-- Anyone may call it: at worst it widens the range logged for their own transaction's insert.
CREATE FUNCTION incmodel.note_source_row(source regclass, batch_column text, value anyelement)
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'incmodel_note_source_row';

-- Sources logged by 0.1.0 get the new trigger pair (their old statement trigger read a transition
-- table, which copied every inserted row).
DO $$
DECLARE
    t record;
    digest text;
BEGIN
    FOR t IN
        SELECT DISTINCT m.source, m.batch_column
          FROM incmodel.models m
          JOIN pg_catalog.pg_trigger g
            ON g.tgrelid = m.source
           AND g.tgname = 'incmodel_changes_' || left(pg_catalog.md5(m.batch_column), 12)
         WHERE m.change_log
    LOOP
        digest := left(pg_catalog.md5(t.batch_column), 12);
        EXECUTE format('DROP TRIGGER %I ON %s', 'incmodel_changes_' || digest, t.source);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW WHEN '
                       '(incmodel.note_source_row(%L::pg_catalog.regclass, %L, NEW.%I)) '
                       'EXECUTE FUNCTION incmodel.log_source_change(%L)',
                       'incmodel_rows_' || digest, t.source, t.source::text, t.batch_column,
                       t.batch_column, t.batch_column);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION incmodel.log_source_change(%L)',
                       'incmodel_changes_' || digest, t.source, t.batch_column);
    END LOOP;
END
$$;
