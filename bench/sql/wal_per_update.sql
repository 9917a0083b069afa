-- WAL written per lead update, by kind of write: the evidence for moving the score out of the lead.
-- Run on the scoring benchmark's data set (1M leads), at a quiet moment and under the bench lock:
--   flock /tmp/qualify-bench.lock psql -h 127.0.0.1 -U postgres -d qualify_bench_scoring -f bench/sql/wal_per_update.sql
-- Each case updates the same 10,000 random leads right after a CHECKPOINT inside a rolled-back
-- transaction and prints the WAL written per row (pg_current_wal_insert_lsn before and after): the
-- worst case, where every touched page is written in full once. It builds (and drops) a narrow copy
-- of the score columns, narrow_exp, to compare. Nothing else is changed.
\timing off
DROP TABLE IF EXISTS ids; CREATE TEMP TABLE ids AS SELECT (random()*999999)::bigint + (SELECT min(id) FROM leads_lead) AS id FROM generate_series(1,10000);
-- 1: lead score change (non-HOT)
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
BEGIN; UPDATE leads_lead SET score = score + 1, score_engagement = score_engagement + 1, score_watermark = score_watermark + 1 WHERE id IN (SELECT id FROM ids); ROLLBACK;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
SELECT 'lead score change' AS exp, pg_size_pretty(pg_wal_lsn_diff(:'l1', :'l0')) AS wal, round(pg_wal_lsn_diff(:'l1', :'l0')/10000) AS per_row;
-- 2: lead state change, score unchanged
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
BEGIN; UPDATE leads_lead SET score_engagement = score_engagement + 1, score_watermark = score_watermark + 1 WHERE id IN (SELECT id FROM ids); ROLLBACK;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
SELECT 'lead state only' AS exp, pg_size_pretty(pg_wal_lsn_diff(:'l1', :'l0')) AS wal, round(pg_wal_lsn_diff(:'l1', :'l0')/10000) AS per_row;
-- 3: narrow table
DROP TABLE IF EXISTS narrow_exp;
CREATE TABLE narrow_exp AS SELECT id AS lead_id, team_id, owner_id, stage, score, score_fit, score_engagement, score_engagement_at, score_watermark, score_changes_at, score_computed_at, score_version_id FROM leads_lead;
ALTER TABLE narrow_exp ADD PRIMARY KEY (lead_id);
CREATE INDEX ON narrow_exp (owner_id, score DESC, lead_id DESC) WHERE stage IN ('new','mql','working');
CREATE INDEX ON narrow_exp (team_id, score DESC, lead_id DESC) WHERE stage IN ('new','mql','working') AND owner_id IS NULL;
CREATE INDEX ON narrow_exp (team_id, score DESC, lead_id DESC) WHERE stage IN ('new','mql','working','handed_off','accepted','opportunity','nurture');
CREATE INDEX ON narrow_exp (score_changes_at) WHERE score_changes_at IS NOT NULL;
VACUUM ANALYZE narrow_exp;
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
BEGIN; UPDATE narrow_exp SET score = score + 1, score_engagement = score_engagement + 1, score_watermark = score_watermark + 1 WHERE lead_id IN (SELECT id FROM ids); ROLLBACK;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
SELECT 'narrow score change' AS exp, pg_size_pretty(pg_wal_lsn_diff(:'l1', :'l0')) AS wal, round(pg_wal_lsn_diff(:'l1', :'l0')/10000) AS per_row;
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
BEGIN; UPDATE narrow_exp SET score_engagement = score_engagement + 1, score_watermark = score_watermark + 1 WHERE lead_id IN (SELECT id FROM ids); ROLLBACK;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
SELECT 'narrow state only' AS exp, pg_size_pretty(pg_wal_lsn_diff(:'l1', :'l0')) AS wal, round(pg_wal_lsn_diff(:'l1', :'l0')/10000) AS per_row;
-- 4: lock rows FOR SHARE
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
BEGIN; SELECT count(*) FROM (SELECT 1 FROM leads_lead WHERE id IN (SELECT id FROM ids) FOR SHARE) x; ROLLBACK;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
SELECT 'lead FOR SHARE' AS exp, pg_size_pretty(pg_wal_lsn_diff(:'l1', :'l0')) AS wal, round(pg_wal_lsn_diff(:'l1', :'l0')/10000) AS per_row;
DROP TABLE narrow_exp;
