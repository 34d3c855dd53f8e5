-- incmodel 0.3.0 -> 0.4.0
\echo Use "ALTER EXTENSION incmodel UPDATE TO '0.4.0'" to load this file. \quit

-- =============================================================================================
-- Change capture: UPDATE and DELETE queue the keys of the rows they change
-- =============================================================================================
-- kind 'recount': the batch range of rows an UPDATE or DELETE changed (old rows, and an UPDATE's
-- new rows), whose keys incmodel_upd / incmodel_del queued for every batch model of the source in
-- incmodel.key_queue: the next plan recounts those batches for the manifest and recomputes the
-- queued keys, instead of rebuilding. A 'modify' row whose batch_column is not empty concerns
-- only the time-based models (of that load column); an empty one, every model of the source.
ALTER TABLE incmodel.source_changes DROP CONSTRAINT source_changes_kind_check;
ALTER TABLE incmodel.source_changes ADD CONSTRAINT source_changes_kind_check
    CHECK (kind IN ('insert', 'modify', 'recount'));

-- incmodel_upd (AFTER UPDATE, REFERENCING OLD TABLE AS incmodel_old NEW TABLE AS incmodel_new)
-- and incmodel_del (AFTER DELETE, REFERENCING OLD TABLE AS incmodel_old), statement triggers on a
-- logged source and on each of its partitions. The keys are evaluated as each model's owner; the
-- queue and the log are written as the catalog owner.
CREATE FUNCTION incmodel.queue_modified_keys() RETURNS trigger
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'incmodel_queue_modified_keys';

-- Logged sources get the two triggers on every relation of their partition tree, enabled ALWAYS
-- like the rest of the set (their models then stop rebuilding after an UPDATE or DELETE).
DO $$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT DISTINCT t.relid FROM incmodel.models m
             CROSS JOIN LATERAL (SELECT m.source::regclass AS relid UNION
                                 SELECT relid FROM pg_catalog.pg_partition_tree(m.source)) t
             JOIN pg_catalog.pg_class c ON c.oid = t.relid
             WHERE m.change_log AND c.relkind IN ('r', 'p') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = p AND tgname = 'incmodel_upd') THEN
            EXECUTE format('CREATE TRIGGER incmodel_upd AFTER UPDATE ON %s REFERENCING OLD TABLE '
                           'AS incmodel_old NEW TABLE AS incmodel_new FOR EACH STATEMENT EXECUTE '
                           'FUNCTION incmodel.queue_modified_keys()', p);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER incmodel_upd', p);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                       WHERE tgrelid = p AND tgname = 'incmodel_del') THEN
            EXECUTE format('CREATE TRIGGER incmodel_del AFTER DELETE ON %s REFERENCING OLD TABLE '
                           'AS incmodel_old FOR EACH STATEMENT EXECUTE FUNCTION '
                           'incmodel.queue_modified_keys()', p);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER incmodel_del', p);
        END IF;
    END LOOP;
END
$$;
