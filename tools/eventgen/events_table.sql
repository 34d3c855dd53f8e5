-- The column layout incmodel-eventgen writes (COPY text or CSV), as a CREATE TABLE: the one
-- definition the demo, the tests and the benchmarks share. Set the table's name first:
--   \set events_table atomic.events
--   \ir events_table.sql
CREATE TABLE :events_table (
  app_id              text,
  platform            text,
  etl_tstamp          timestamp,
  collector_tstamp    timestamp NOT NULL,
  dvce_created_tstamp timestamp,
  dvce_sent_tstamp    timestamp,
  derived_tstamp      timestamp,
  load_tstamp         timestamp,
  event               text,
  event_name          text,
  event_id            uuid NOT NULL,
  domain_userid       text,
  domain_sessionid    text,
  domain_sessionidx   integer,
  user_id             text,
  network_userid      text,
  page_url            text,
  page_title          text,
  page_referrer       text,
  refr_medium         text,
  geo_country         text,
  br_family           text,
  os_family           text,
  dvce_type           text,
  tr_total            numeric(18,2)
);
