-- Renders bench/out/summary.md from bench.results (psql -At; variables hmin, hmax, refb,
-- ingestb, runs, mode).
CREATE TEMP TABLE med AS
SELECT hsize, model, bsize, measure, unit, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS v
FROM bench.results GROUP BY 1, 2, 3, 4, 5;
CREATE FUNCTION pg_temp.m(h bigint, mo text, b int, me text) RETURNS float8 LANGUAGE sql AS
$$ SELECT nullif(v, 0) FROM med WHERE hsize = h AND model = mo AND bsize = b AND measure = me $$;
CREATE FUNCTION pg_temp.f(x float8) RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN x IS NULL THEN 'n/a' WHEN x >= 100 THEN round(x)::text
               ELSE round(x::numeric, 1)::text END $$;
CREATE FUNCTION pg_temp.r(x float8) RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN x IS NULL THEN 'n/a' WHEN x >= 100 THEN round(x)::text || 'x'
               ELSE round(x::numeric, 2)::text || 'x' END $$;
CREATE FUNCTION pg_temp.ok(pass boolean) RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN pass IS NULL THEN 'n/a' WHEN pass THEN 'met' ELSE '**missed**' END $$;

SELECT format('# incmodel benchmark summary (%s run)', :'mode');
SELECT '';
SELECT format('Generated %s by `bench/run%s`; every time is the median of %s runs (ms) on PostgreSQL %s, '
       '%s cores. Batches: B events (plus ~1%% duplicates) loaded as one new etl_tstamp; ~30%% of '
       'their sessions continue recent sessions. Models: window_column collector_tstamp, lookback 7 days.',
       to_char(now(), 'YYYY-MM-DD HH24:MI TZ'), CASE WHEN :'mode' = 'quick' THEN ' --quick' ELSE '' END,
       :'runs', current_setting('server_version'), (SELECT count(*) FROM pg_ls_dir('/sys/devices/system/cpu') d WHERE d ~ '^cpu[0-9]+$'));
SELECT '';
SELECT '## Targets';
SELECT '';
SELECT '| target | measured | goal | verdict |';
SELECT '|---|---|---|---|';
WITH t(name, x, goal, pass) AS (
  SELECT format('sessions refresh B=%s at %s vs %s events', :refb, :hmax, :hmin),
         pg_temp.m(:hmax, 'sessions', :refb, 'refresh') / pg_temp.m(:hmin, 'sessions', :refb, 'refresh'), '<= 1.2x', NULL::boolean
  UNION ALL SELECT format('users refresh B=%s at %s vs %s events', :refb, :hmax, :hmin),
         pg_temp.m(:hmax, 'users', :refb, 'refresh') / pg_temp.m(:hmin, 'users', :refb, 'refresh'), '<= 1.2x', NULL
  UNION ALL SELECT format('full rebuild / refresh (sessions, %s, B=%s)', :hmax, :refb),
         pg_temp.m(:hmax, 'sessions', :refb, 'full_rebuild') / pg_temp.m(:hmax, 'sessions', :refb, 'refresh'), '>= 150x', NULL
  UNION ALL SELECT format('REFRESH MV CONCURRENTLY / refresh (sessions, %s, B=%s)', :hmax, :refb),
         pg_temp.m(:hmax, 'sessions', :refb, 'mv_concurrently') / pg_temp.m(:hmax, 'sessions', :refb, 'refresh'), '>= 150x', NULL
  UNION ALL SELECT format('REFRESH MV / refresh (sessions, %s, B=%s)', :hmax, :refb),
         pg_temp.m(:hmax, 'sessions', :refb, 'mv_refresh') / pg_temp.m(:hmax, 'sessions', :refb, 'refresh'), '(info)', NULL
  UNION ALL SELECT format('worst refresh / hand-written optimal (any size, model, B)'),
         (SELECT max(a.v / nullif(h.v, 0)) FROM med a JOIN med h USING (hsize, model, bsize)
           WHERE a.measure = 'refresh' AND h.measure = 'hand_optimal'), '<= 1.3x', NULL
  UNION ALL SELECT format('no-op refresh at %s events, sessions (ms)', :hmax),
         pg_temp.m(:hmax, 'sessions', 0, 'noop'), '<= 10 ms', NULL
  UNION ALL SELECT format('no-op refresh at %s events, users (ms)', :hmax),
         pg_temp.m(:hmax, 'users', 0, 'noop'), '<= 10 ms', NULL
  UNION ALL SELECT format('ingest COPY %s events with models / without, at %s', :ingestb, :hmax),
         pg_temp.m(:hmax, 'events', :ingestb, 'ingest_with_models') / pg_temp.m(:hmax, 'events', :ingestb, 'ingest_no_models'), '<= 1.03x', NULL
  UNION ALL SELECT format('refresh peak memory at %s vs %s, sessions', :hmax, :hmin),
         pg_temp.m(:hmax, 'sessions', :refb, 'mem_peak_anon') / pg_temp.m(:hmin, 'sessions', :refb, 'mem_peak_anon'), '<= 1.2x', NULL
  UNION ALL SELECT format('refresh peak memory at %s vs %s, users', :hmax, :hmin),
         pg_temp.m(:hmax, 'users', :refb, 'mem_peak_anon') / pg_temp.m(:hmin, 'users', :refb, 'mem_peak_anon'), '<= 1.2x', NULL
  UNION ALL SELECT format('refresh peak memory at %s, sessions (MB)', :hmax),
         pg_temp.m(:hmax, 'sessions', :refb, 'mem_peak_anon') / 1024, '<= 32 MB', NULL
  UNION ALL SELECT format('refresh peak memory at %s, users (MB)', :hmax),
         pg_temp.m(:hmax, 'users', :refb, 'mem_peak_anon') / 1024, '<= 32 MB', NULL)
SELECT format('| %s | %s | %s | %s |', name,
              CASE WHEN goal LIKE '%x' OR goal = '(info)' THEN pg_temp.r(x) ELSE pg_temp.f(x) END, goal,
              CASE WHEN goal = '(info)' THEN '' ELSE pg_temp.ok(CASE
                WHEN x IS NULL THEN NULL
                WHEN goal = '>= 150x' THEN x >= 150
                ELSE x <= substring(goal from '[0-9.]+')::float8 END) END)
FROM t;
SELECT '';
SELECT '## Refresh vs hand-written optimal (median ms)';
SELECT '';
SELECT '| events | model | B | refresh | hand-written | refresh/hand | no-op refresh |';
SELECT '|---:|---|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s | %s | %s |', hsize, model, bsize, pg_temp.f(v),
              pg_temp.f(pg_temp.m(hsize, model, bsize, 'hand_optimal')),
              pg_temp.r(v / pg_temp.m(hsize, model, bsize, 'hand_optimal')),
              pg_temp.f(pg_temp.m(hsize, model, 0, 'noop')))
FROM med WHERE measure = 'refresh' ORDER BY hsize, model, bsize;
SELECT '';
SELECT format('## Alternatives, sessions model, B=%s (median ms)', :refb);
SELECT '';
SELECT '| events | incmodel refresh | hand-written | full rebuild (CTAS+index+swap) | REFRESH MV | REFRESH MV CONCURRENTLY | rebuild/refresh | MVC/refresh |';
SELECT '|---:|---:|---:|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', hsize, pg_temp.f(v),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'hand_optimal')),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'full_rebuild')),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mv_refresh')),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mv_concurrently')),
              pg_temp.r(pg_temp.m(hsize, 'sessions', :refb, 'full_rebuild') / v),
              pg_temp.r(pg_temp.m(hsize, 'sessions', :refb, 'mv_concurrently') / v))
FROM med WHERE measure = 'refresh' AND model = 'sessions' AND bsize = :refb ORDER BY hsize;
SELECT '';
SELECT format('## Ingest (COPY of %s events, median ms) and refresh peak memory (B=%s, median kB)', :ingestb, :refb);
SELECT '';
SELECT '| events | COPY with models | COPY without | ratio | sessions peak anon | users peak anon | sessions HWM-shared | users HWM-shared |';
SELECT '|---:|---:|---:|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', hsize, pg_temp.f(v),
              pg_temp.f(pg_temp.m(hsize, 'events', :ingestb, 'ingest_no_models')),
              pg_temp.r(v / pg_temp.m(hsize, 'events', :ingestb, 'ingest_no_models')),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mem_peak_anon')),
              pg_temp.f(pg_temp.m(hsize, 'users', :refb, 'mem_peak_anon')),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mem_hwm_minus_shared')),
              pg_temp.f(pg_temp.m(hsize, 'users', :refb, 'mem_hwm_minus_shared')))
FROM med WHERE measure = 'ingest_with_models' ORDER BY hsize;
SELECT '';
SELECT format('## Refresh peak memory per history size (B=%s, median of the runs, MB)', :refb);
SELECT '';
SELECT 'RssAnon sampled every ~5 ms (a lower bound of the private peak) and VmHWM minus shared and file pages at the end (an upper bound), of the backend running one refresh from a new connection.';
SELECT '';
SELECT '| events | sessions peak anon | sessions HWM-shared | users peak anon | users HWM-shared |';
SELECT '|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s |', hsize,
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mem_peak_anon') / 1024),
              pg_temp.f(pg_temp.m(hsize, 'sessions', :refb, 'mem_hwm_minus_shared') / 1024),
              pg_temp.f(pg_temp.m(hsize, 'users', :refb, 'mem_peak_anon') / 1024),
              pg_temp.f(pg_temp.m(hsize, 'users', :refb, 'mem_hwm_minus_shared') / 1024))
FROM (SELECT DISTINCT hsize FROM med WHERE measure = 'mem_peak_anon') h ORDER BY hsize;
-- pg_ivm comparison (only when it ran): per run, incmodel load + refresh against pg_ivm's load.
CREATE TEMP TABLE ivm AS
SELECT hsize, bsize, run,
       sum(value) FILTER (WHERE measure = 'inc_load') AS inc_load,
       sum(value) FILTER (WHERE measure = 'inc_refresh') AS inc_refresh,
       sum(value) FILTER (WHERE measure = 'ivm_load') AS ivm_load
FROM bench.results WHERE model = 'sessions_nd' GROUP BY 1, 2, 3;
SELECT '' WHERE EXISTS (SELECT FROM ivm);
SELECT '## Until the derived table is current: incmodel vs pg_ivm (sessions without count(DISTINCT), median ms)' WHERE EXISTS (SELECT FROM ivm);
SELECT '' WHERE EXISTS (SELECT FROM ivm);
SELECT '| events | B | incmodel load | incmodel refresh | incmodel load + refresh | pg_ivm load (IMMV maintained) | incmodel / pg_ivm | faster than pg_ivm (target) |' WHERE EXISTS (SELECT FROM ivm);
SELECT '|---:|---:|---:|---:|---:|---:|---:|---|' WHERE EXISTS (SELECT FROM ivm);
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', hsize, bsize, pg_temp.f(l), pg_temp.f(rf), pg_temp.f(t), pg_temp.f(i), pg_temp.r(t / i), pg_temp.ok(t < i))
FROM (SELECT hsize, bsize,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY inc_load) AS l,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY inc_refresh) AS rf,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY inc_load + inc_refresh) AS t,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY ivm_load) AS i
      FROM ivm GROUP BY 1, 2) x ORDER BY hsize, bsize;
SELECT '';
SELECT '## Oracle checks (target EXCEPT ALL full rebuild, both ways)';
SELECT '';
SELECT format('- %s events, %s: %s missing, %s extra', hsize, model, missing, extra)
FROM bench.checks ORDER BY hsize, model;
