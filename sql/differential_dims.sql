-- Randomized differential test of dimension changes: per seed, an event stream (tools/eventgen:
-- late events, duplicate event ids, NULL sessions and users; the loader holds part of every batch
-- back and loads it later, replays rows, leaves some countries and browsers NULL) is loaded
-- batch by batch while the dimensions the models read change under them:
--   dd.geo         INNER JOIN on the country code (dd_sessions, dd_countries, dd_daily)
--   dd.browsers    LEFT JOIN on the browser family (dd_sessions)
--   dd.ctx         contexts joined on the event id (c.root_id = e.event_id and a filter on their
--                  score, dd_contexts): rows arrive after their events, are updated (their score
--                  crossing the filter), re-pointed to other events, deleted
--   dd.pages, dd.categories   a chain: categories joined to pages joined to the events
--                  (dd_categories, and the features model dd_user_cats over it)
--   dd.bots, dd.limits        read in subqueries: NOT EXISTS (correlated on the user) and a
--                  scalar aggregate (a shape no mapping from changed rows to keys can bound)
--   dd.user_map    domain_userid -> user_id (identity stitching; here a LEFT JOINed column that
--                  rides along in aggregates; sql/differential_stitch.sql keys models by it)
-- The models: dd_sessions (by session, dimension columns in aggregates), dd_countries (GROUP BY
-- the dimension's column an inner join equates to the source's), dd_contexts (by event id),
-- dd_categories (by user and category, through the chain), dd_humans (the subqueries), dd_daily
-- (a daily model over geo) and dd_user_cats (a features model over dd_categories that reads
-- user_map too).
-- Each step is its own transaction: a load, or a dimension change (INSERT, UPDATE of a join
-- column or of a value column, DELETE, TRUNCATE, TRUNCATE + reload, INSERT ... ON CONFLICT DO
-- UPDATE, late and re-pointed map rows, join values moved away and back), or a correction of
-- the events' own join columns; sometimes two changes (or a load and a change) in one
-- transaction. After a random share of the steps (so sometimes after several) the models are
-- refreshed and every target must equal a full rebuild of its query (testkit.assert_equal
-- raises, naming the seed, the step and the operations since the last check). The test uses
-- only the public API, so it holds whatever a dimension change costs (a full recompute, or the
-- keys it reaches).
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE SCHEMA dd;
CREATE TABLE dd.geo (code text PRIMARY KEY, region text NOT NULL, tier int NOT NULL);
CREATE TABLE dd.browsers (family text PRIMARY KEY, vendor text);
CREATE TABLE dd.ctx (ctx_id serial PRIMARY KEY, root_id uuid NOT NULL, kind text NOT NULL, score int);
CREATE TABLE dd.pages (url text PRIMARY KEY, category_id int);
CREATE TABLE dd.categories (category_id int PRIMARY KEY, category text NOT NULL);
CREATE TABLE dd.bots (domain_userid text PRIMARY KEY);
CREATE TABLE dd.limits (name text PRIMARY KEY, max_idx int);
CREATE TABLE dd.user_map (domain_userid text PRIMARY KEY, user_id text);
CREATE TABLE testkit.dd_stage (LIKE testkit.event_layout);
-- The steps taken (refreshed: the models were refreshed and checked after it).
CREATE TABLE testkit.dd_ops (seed int, step int, op text, refreshed boolean NOT NULL DEFAULT false);
-- The models of a run (sql/differential_stitch.sql adds its own), in refresh order.
CREATE TABLE testkit.dd_models (name text PRIMARY KEY, ord int NOT NULL, query text NOT NULL,
                                depends_on text);
INSERT INTO testkit.dd_models VALUES
('dd_sessions', 1, $q$
  SELECT e.domain_sessionid AS session_id, count(*) AS events, sum(g.tier) AS tiers,
         string_agg(DISTINCT g.region, ',' ORDER BY g.region) AS regions,
         max(b.vendor) AS vendor, count(b.family) AS known_browser,
         max(m.user_id) AS user_id, count(DISTINCT m.user_id) AS stitched_users
  FROM atomic.dd_events e JOIN dd.geo g ON g.code = e.geo_country
  LEFT JOIN dd.browsers b ON b.family = e.br_family
  LEFT JOIN dd.user_map m ON m.domain_userid = e.domain_userid
  GROUP BY 1 $q$, NULL),
('dd_countries', 2, $q$
  SELECT g.code AS country, g.region, count(*) AS events, count(DISTINCT e.domain_userid) AS users,
         max(g.tier) AS tier
  FROM atomic.dd_events e JOIN dd.geo g ON g.code = e.geo_country
  GROUP BY g.code, g.region $q$, NULL),
('dd_contexts', 3, $q$
  SELECT e.event_id, count(*) AS rows, count(c.root_id) AS contexts, sum(c.score) AS score,
         string_agg(DISTINCT c.kind, ',' ORDER BY c.kind) AS kinds
  FROM atomic.dd_events e LEFT JOIN dd.ctx c ON c.root_id = e.event_id AND c.score >= 2
  GROUP BY e.event_id $q$, NULL),
('dd_categories', 4, $q$
  SELECT e.domain_userid AS user_id, k.category, count(*) AS views, count(DISTINCT p.url) AS pages
  FROM atomic.dd_events e JOIN dd.pages p ON p.url = e.page_url
  JOIN dd.categories k ON k.category_id = p.category_id
  GROUP BY e.domain_userid, k.category $q$, NULL),
('dd_humans', 5, $q$
  SELECT e.domain_userid AS user_id, count(*) AS events, sum(e.tr_total) AS revenue
  FROM atomic.dd_events e
  WHERE NOT EXISTS (SELECT 1 FROM dd.bots b WHERE b.domain_userid = e.domain_userid)
    AND e.domain_sessionidx <= (SELECT coalesce(max(l.max_idx), 0) FROM dd.limits l)
  GROUP BY 1 $q$, NULL),
('dd_daily', 6, $q$
  SELECT g.region, e.load_tstamp::date AS day, count(*) AS events, sum(g.tier) AS tiers
  FROM atomic.dd_events e JOIN dd.geo g ON g.code = e.geo_country GROUP BY 1, 2 $q$, NULL),
('dd_user_cats', 7, $q$
  SELECT c.user_id, count(DISTINCT c.category) AS categories, sum(c.views) AS views,
         max(m.user_id) AS stitched_to
  FROM derived.dd_categories c LEFT JOIN dd.user_map m ON m.domain_userid = c.user_id
  GROUP BY c.user_id $q$, 'dd_categories');

CREATE FUNCTION testkit.dd_create_models() RETURNS void LANGUAGE plpgsql AS $$
DECLARE m record;
BEGIN
  FOR m IN SELECT * FROM testkit.dd_models ORDER BY ord LOOP
    IF m.name = 'dd_daily' THEN
      PERFORM incmodel.create_model(name => m.name, query => m.query, target => 'derived.' || m.name,
        load_column => 'load_tstamp', start_date => now() - interval '1 day', day_key => 'day');
    ELSIF m.depends_on IS NOT NULL THEN
      PERFORM incmodel.create_model(name => m.name, query => m.query, target => 'derived.' || m.name,
        depends_on => ARRAY[m.depends_on]);
    ELSE
      -- dd_humans reads its dimensions in sublinks: no route maps their changes to keys.
      PERFORM incmodel.create_model(m.name, m.query, 'derived.' || m.name, 'etl_tstamp',
        on_dimension_change => CASE m.name WHEN 'dd_humans' THEN 'rebuild' ELSE 'recompute' END);
    END IF;
  END LOOP;
END $$;

CREATE FUNCTION testkit.dd_check(ctx text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE m text; n int := 0;
BEGIN
  FOR m IN SELECT name FROM testkit.dd_models ORDER BY ord LOOP
    PERFORM testkit.assert_equal(m, ctx);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- The loaded rows of batch b: stamped with the time of their load (the daily model's load
-- column), a few without a country or a browser; part (held) of them or the rest.
CREATE FUNCTION testkit.dd_rows(b timestamp, held boolean) RETURNS SETOF testkit.dd_stage
LANGUAGE sql VOLATILE AS $$
  SELECT app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp,
         derived_tstamp, clock_timestamp()::timestamp, event, event_name, event_id, domain_userid,
         domain_sessionid, domain_sessionidx, user_id, network_userid, page_url, page_title,
         page_referrer, refr_medium,
         CASE WHEN abs(hashtext(event_id::text || 'g')) % 25 = 0 THEN NULL ELSE geo_country END,
         CASE WHEN abs(hashtext(event_id::text || 'b')) % 20 = 0 THEN NULL ELSE br_family END,
         os_family, dvce_type, tr_total
  FROM testkit.dd_stage
  WHERE etl_tstamp = b AND (abs(hashtext(event_id::text)) % 6 = 0) = held $$;

-- The dimensions' first rows: most countries, browsers and pages, three of four categories,
-- two bots, a limit, a third of the users mapped (several devices to one user; some map to an
-- id that is another device's domain_userid, some to NULL).
CREATE FUNCTION testkit.dd_fill(seed int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE dd.geo, dd.browsers, dd.ctx, dd.pages, dd.categories, dd.bots, dd.limits, dd.user_map;
  INSERT INTO dd.geo SELECT DISTINCT geo_country, 'r' || abs(hashtext(geo_country || seed)) % 3,
         abs(hashtext(geo_country)) % 5 FROM testkit.dd_stage
   WHERE geo_country IS NOT NULL AND abs(hashtext(geo_country || seed || 'in')) % 4 <> 0;
  INSERT INTO dd.browsers SELECT DISTINCT br_family, 'v' || abs(hashtext(br_family || seed)) % 2
    FROM testkit.dd_stage WHERE br_family IS NOT NULL AND abs(hashtext(br_family || seed)) % 3 <> 0;
  INSERT INTO dd.pages SELECT DISTINCT page_url, abs(hashtext(page_url || seed)) % 4
    FROM testkit.dd_stage WHERE page_url IS NOT NULL AND abs(hashtext(page_url || seed || 'in')) % 5 <> 0;
  INSERT INTO dd.categories VALUES (0, 'c0'), (1, 'c1'), (2, 'c2');
  INSERT INTO dd.bots SELECT DISTINCT domain_userid FROM testkit.dd_stage
   WHERE domain_userid IS NOT NULL AND abs(hashtext(domain_userid || seed || 'bot')) % 8 = 0;
  INSERT INTO dd.limits VALUES ('a', 2);
  PERFORM testkit.dd_map(seed, 0, 3);
END $$;

-- Map rows for 1/share of the users seen (loaded or staged) and not mapped yet.
CREATE FUNCTION testkit.dd_map(seed int, step int, share int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO dd.user_map
  SELECT u, CASE abs(hashtext(u || seed || step || 'k')) % 7
              WHEN 0 THEN NULL
              WHEN 1 THEN (SELECT min(s.domain_userid) FROM testkit.dd_stage s)  -- another device
              ELSE 'user' || abs(hashtext(u || seed || 'k')) % 5 END
  FROM (SELECT DISTINCT domain_userid AS u FROM testkit.dd_stage WHERE domain_userid IS NOT NULL) x
  WHERE abs(hashtext(u || seed || step || 'm')) % share = 0
  ON CONFLICT (domain_userid) DO NOTHING $$;

-- One change of the dimensions (op), at step `step` of seed `seed`.
CREATE FUNCTION testkit.dd_change(op text, seed int, step int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE salt text := seed || '/' || step;
BEGIN
  CASE op
  WHEN 'geo_insert' THEN  -- missing countries arrive (and one no event has)
    INSERT INTO dd.geo SELECT DISTINCT geo_country, 'r' || abs(hashtext(geo_country || salt)) % 3, step % 5
      FROM testkit.dd_stage WHERE geo_country IS NOT NULL AND abs(hashtext(geo_country || salt)) % 2 = 0
    UNION ALL SELECT 'Z' || step, 'nowhere', 0
    ON CONFLICT (code) DO NOTHING;
  WHEN 'geo_value' THEN  -- value columns
    UPDATE dd.geo SET region = CASE WHEN abs(hashtext(code || salt || 'r')) % 2 = 0 THEN region || '+'
                                    ELSE 'r' || abs(hashtext(code || salt)) % 3 END, tier = tier + 1
     WHERE abs(hashtext(code || salt)) % 3 = 0;
  WHEN 'geo_key' THEN  -- the join column: a code moved to its other case (its events lose or find it)
    UPDATE dd.geo g SET code = CASE WHEN code = upper(code) THEN lower(code) ELSE upper(code) END
     WHERE abs(hashtext(code || salt)) % 3 = 0
       AND NOT EXISTS (SELECT 1 FROM dd.geo o WHERE o.code <> g.code AND upper(o.code) = upper(g.code));
  WHEN 'geo_roundtrip' THEN  -- codes moved away and back, a row deleted and inserted again with
                            -- another region, in one transaction: only the regions changed
    UPDATE dd.geo g SET code = code || '~' WHERE abs(hashtext(code || salt)) % 2 = 0;
    UPDATE dd.geo g SET code = left(code, -1), region = region || '~' WHERE code LIKE '%~';
    WITH gone AS (DELETE FROM dd.geo WHERE code = (SELECT min(code) FROM dd.geo) RETURNING *)
    INSERT INTO dd.geo SELECT code, region || '*', tier FROM gone;
  WHEN 'geo_delete' THEN
    DELETE FROM dd.geo WHERE abs(hashtext(code || salt)) % 4 = 0;
  WHEN 'geo_truncate' THEN  -- emptied (a later geo_reload or geo_insert fills it)
    TRUNCATE dd.geo;
  WHEN 'geo_reload' THEN  -- TRUNCATE and reload, as a loader replaces a lookup table
    TRUNCATE dd.geo;
    INSERT INTO dd.geo SELECT DISTINCT geo_country, 'r' || abs(hashtext(geo_country || salt)) % 3,
           abs(hashtext(geo_country || salt)) % 5 FROM testkit.dd_stage
     WHERE geo_country IS NOT NULL AND abs(hashtext(geo_country || salt || 'in')) % 5 <> 0;
  WHEN 'browser_upsert' THEN  -- new families and new vendors of known ones; unchanged ones too
    INSERT INTO dd.browsers SELECT DISTINCT br_family, 'v' || abs(hashtext(br_family || salt)) % 3
      FROM testkit.dd_stage WHERE br_family IS NOT NULL AND abs(hashtext(br_family || salt)) % 2 = 0
    ON CONFLICT (family) DO UPDATE SET vendor = EXCLUDED.vendor;
  WHEN 'browser_delete' THEN
    DELETE FROM dd.browsers WHERE abs(hashtext(family || salt)) % 3 = 0;
  WHEN 'ctx_late' THEN  -- contexts of loaded events, after them (one or two per event)
    INSERT INTO dd.ctx (root_id, kind, score)
    SELECT DISTINCT e.event_id, 'k' || k, abs(hashtext(e.event_id::text || k)) % 10
      FROM atomic.dd_events e, generate_series(1, 2) k
     WHERE abs(hashtext(e.event_id::text || salt)) % 4 = 0
       AND (k = 1 OR abs(hashtext(e.event_id::text || salt || 'k')) % 3 = 0)
       AND NOT EXISTS (SELECT 1 FROM dd.ctx c WHERE c.root_id = e.event_id);
    -- and contexts of events not loaded yet
    INSERT INTO dd.ctx (root_id, kind, score)
    SELECT DISTINCT s.event_id, 'early', 1 FROM testkit.dd_stage s
     WHERE abs(hashtext(s.event_id::text || salt)) % 30 = 0;
  WHEN 'ctx_update' THEN  -- scores, and contexts re-pointed to another event (the join column)
    UPDATE dd.ctx SET score = coalesce(score, 0) + step WHERE abs(hashtext(ctx_id || salt)) % 3 = 0;
    UPDATE dd.ctx c SET root_id = (SELECT s.event_id FROM testkit.dd_stage s
                                    ORDER BY abs(hashtext(s.event_id::text || c.ctx_id || salt)) LIMIT 1)
     WHERE abs(hashtext(ctx_id || salt || 'p')) % 5 = 0;
  WHEN 'ctx_delete' THEN
    DELETE FROM dd.ctx WHERE abs(hashtext(ctx_id || salt)) % 4 = 0;
  WHEN 'pages_key' THEN  -- the chain's first link, its join column to the events
    UPDATE dd.pages p SET url = CASE WHEN url LIKE '%#moved' THEN left(url, -6) ELSE url || '#moved' END
     WHERE abs(hashtext(url || salt)) % 4 = 0
       AND NOT EXISTS (SELECT 1 FROM dd.pages o WHERE o.url <> p.url
                         AND (o.url = p.url || '#moved' OR p.url = o.url || '#moved'));
  WHEN 'pages_category' THEN  -- the chain's join column to its second link
    UPDATE dd.pages SET category_id = CASE WHEN category_id IS NULL THEN 0 ELSE (category_id + 1) % 4 END
     WHERE abs(hashtext(url || salt)) % 3 = 0;
    UPDATE dd.pages SET category_id = NULL WHERE abs(hashtext(url || salt || 'n')) % 15 = 0;
  WHEN 'categories' THEN  -- the chain's second link: renamed, one dropped, the missing one added
    UPDATE dd.categories SET category = category || '+' WHERE abs(hashtext(category_id || salt)) % 2 = 0;
    DELETE FROM dd.categories WHERE category_id = step % 4 AND abs(hashtext(salt)) % 2 = 0;
    INSERT INTO dd.categories SELECT k, 'c' || k || '@' || step FROM generate_series(0, 3) k
    ON CONFLICT (category_id) DO NOTHING;
  WHEN 'bots' THEN
    DELETE FROM dd.bots WHERE abs(hashtext(domain_userid || salt)) % 2 = 0;
    INSERT INTO dd.bots SELECT DISTINCT domain_userid FROM testkit.dd_stage
     WHERE domain_userid IS NOT NULL AND abs(hashtext(domain_userid || salt || 'bot')) % 10 = 0
    ON CONFLICT DO NOTHING;
  WHEN 'limits' THEN  -- the scalar subquery's value moves: any key may change
    CASE abs(hashtext(salt)) % 3
    WHEN 0 THEN UPDATE dd.limits SET max_idx = 1 + abs(hashtext(salt || 'l')) % 3;
    WHEN 1 THEN INSERT INTO dd.limits VALUES ('s' || step, 2 + step % 3);
    ELSE DELETE FROM dd.limits WHERE name <> 'a';
    END CASE;
  WHEN 'map_late' THEN  -- users mapped after their events
    PERFORM testkit.dd_map(seed, step, 4);
  WHEN 'map_repoint' THEN  -- a device now belongs to another user (or to none)
    UPDATE dd.user_map SET user_id = CASE abs(hashtext(domain_userid || salt || 'u')) % 6
                                       WHEN 0 THEN NULL
                                       ELSE 'user' || abs(hashtext(domain_userid || salt)) % 5 END
     WHERE abs(hashtext(domain_userid || salt)) % 3 = 0;
  WHEN 'map_delete' THEN
    DELETE FROM dd.user_map WHERE abs(hashtext(domain_userid || salt)) % 4 = 0;
  WHEN 'ev_correct' THEN  -- the events' own join columns corrected (the source's key capture), a few deleted
    UPDATE atomic.dd_events SET geo_country = CASE WHEN geo_country = 'US' THEN 'GB' ELSE 'US' END,
           page_url = page_url || '?fixed'
     WHERE abs(hashtext(event_id::text || salt)) % 15 = 0;
    UPDATE atomic.dd_events SET br_family = NULL, domain_userid = 'moved-' || left(domain_userid, 8)
     WHERE abs(hashtext(event_id::text || salt || 'u')) % 25 = 0;
    DELETE FROM atomic.dd_events WHERE abs(hashtext(event_id::text || salt || 'd')) % 30 = 0;
  END CASE;
END $$;

-- One seed. The loader walks the generated batches in order; a step loads the next batch (or a
-- replay) or changes dimensions; the models are refreshed after half of the steps.
CREATE PROCEDURE testkit.dd_seed(seed int) LANGUAGE plpgsql AS $$
<<run>>
DECLARE
  batches timestamp[]; nb int; i int := 1; step int := 0; op text; op2 text; r float8;
  since text := ''; checks int := 0;
  changes constant text[] := ARRAY['geo_insert', 'geo_value', 'geo_key', 'geo_roundtrip',
    'geo_delete', 'geo_truncate', 'geo_reload', 'browser_upsert', 'browser_delete', 'ctx_late',
    'ctx_late', 'ctx_update', 'ctx_delete', 'pages_key', 'pages_category', 'categories', 'bots',
    'limits', 'map_late', 'map_repoint', 'map_delete', 'ev_correct'];
BEGIN
  PERFORM setseed(seed / 1000.0);
  TRUNCATE testkit.dd_stage;
  PERFORM testkit.generate('testkit.dd_stage', format(
    '--seed %s --events 360 --users 14 --session-events 10 --batches 6 --days 2 '
    '--late-fraction 0.1 --dup-fraction 0.05 --null-session-fraction 0.04', seed));
  SELECT array_agg(DISTINCT etl_tstamp ORDER BY etl_tstamp) INTO batches FROM testkit.dd_stage;
  nb := array_length(batches, 1);
  PERFORM testkit.make_events('atomic.dd_events');
  PERFORM testkit.dd_fill(seed);
  INSERT INTO atomic.dd_events SELECT * FROM testkit.dd_rows(batches[1], false);
  PERFORM testkit.dd_create_models();
  COMMIT;
  WHILE i < nb OR step < 16 LOOP
    step := step + 1;
    r := random();
    IF r < 0.3 AND i < nb THEN
      op := 'events';
    ELSIF r < 0.36 THEN
      op := 'replay';
    ELSE
      op := changes[1 + floor(random() * array_length(changes, 1))::int];
    END IF;
    CASE op
    WHEN 'events' THEN  -- the next batch, and what was held back of the one before last
      i := i + 1;
      INSERT INTO atomic.dd_events SELECT * FROM testkit.dd_rows(batches[i], false);
      IF i > 2 THEN
        INSERT INTO atomic.dd_events SELECT * FROM testkit.dd_rows(batches[i - 2], true);
      END IF;
    WHEN 'replay' THEN  -- rows of a loaded batch again (duplicates under their batch value)
      INSERT INTO atomic.dd_events SELECT * FROM testkit.dd_rows(batches[1 + floor(random() * i)::int], false) x
       WHERE abs(hashtext(x.event_id::text || step)) % 3 = 0;
    ELSE
      PERFORM testkit.dd_change(op, seed, step);
    END CASE;
    -- sometimes a second change (or a load) in the same transaction
    op2 := NULL;
    IF random() < 0.2 THEN
      op2 := (changes || 'events'::text)[1 + floor(random() * (array_length(changes, 1) + 1))::int];
      IF op2 = 'events' AND i < nb THEN
        i := i + 1;
        INSERT INTO atomic.dd_events SELECT * FROM testkit.dd_rows(batches[i], false);
      ELSIF op2 = 'events' THEN
        op2 := NULL;
      ELSE
        PERFORM testkit.dd_change(op2, seed, -step);
      END IF;
    END IF;
    INSERT INTO testkit.dd_ops VALUES (seed, step, op || coalesce('+' || op2, ''));
    since := since || ' ' || op || coalesce('+' || op2, '');
    COMMIT;
    r := random();
    IF r < 0.38 THEN
      CALL incmodel.refresh_all();
    ELSIF r < 0.5 THEN
      CALL testkit.dd_refresh_each();  -- one by one, inputs first
    END IF;
    IF r < 0.5 THEN
      checks := checks + testkit.dd_check(format('seed %s step %s, after:%s', seed, step, since));
      UPDATE testkit.dd_ops o SET refreshed = true WHERE o.seed = dd_seed.seed AND o.step = run.step;
      since := '';
    END IF;
    COMMIT;
  END LOOP;
  CALL incmodel.refresh_all();
  checks := checks + testkit.dd_check(format('seed %s final, after:%s', seed, since));
  INSERT INTO testkit.dd_results VALUES (seed, checks, NULL);
  PERFORM incmodel.drop_model(m.name, true) FROM testkit.dd_models m ORDER BY m.ord DESC;
  COMMIT;
END run $$;

CREATE PROCEDURE testkit.dd_refresh_each() LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  FOR m IN SELECT name FROM testkit.dd_models ORDER BY ord LOOP
    CALL incmodel.refresh(m);
  END LOOP;
END $$;

CREATE TABLE testkit.dd_results (seed int PRIMARY KEY, checks int, failures bigint);
CREATE PROCEDURE testkit.dd_seeds(first int, last int) LANGUAGE plpgsql AS $$
DECLARE s int; r0 bigint;
BEGIN
  FOR s IN first..last LOOP
    SELECT coalesce(max(run_id), 0) INTO r0 FROM incmodel.runs;
    COMMIT;
    CALL testkit.dd_seed(s);
    UPDATE testkit.dd_results SET failures = (
      SELECT count(*) FROM incmodel.runs WHERE run_id > r0 AND outcome = 'failed') WHERE seed = s;
    COMMIT;
  END LOOP;
END $$;

CALL testkit.dd_seeds(1, 50);
-- Every seed checked every model after every refresh (a difference from a rebuild raises an
-- error above and stops the test); no run failed.
SELECT count(*) AS seeds, min(checks) >= 7 * 5 AS checked_often, sum(failures) AS failures
FROM testkit.dd_results;
-- Every operation was taken in several seeds, and refreshed after in some; some refreshes
-- followed several steps, some steps changed two dimensions (or loaded and changed one) in one
-- transaction.
SELECT op, count(DISTINCT seed) >= 3 AS in_several_seeds, bool_or(refreshed) AS refreshed_after
FROM (SELECT seed, step, split_part(op, '+', 1) AS op, refreshed FROM testkit.dd_ops
      UNION ALL
      SELECT seed, step, split_part(op, '+', 2), refreshed FROM testkit.dd_ops WHERE op LIKE '%+%') o
GROUP BY op ORDER BY op;
SELECT count(*) FILTER (WHERE op LIKE '%+%') >= 50 AS two_changes_in_one_transaction,
       count(*) FILTER (WHERE NOT refreshed) >= 100 AS refreshes_after_several_steps
FROM testkit.dd_ops;
RESET TimeZone;
RESET client_min_messages;
