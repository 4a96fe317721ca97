-- +goose NO TRANSACTION
-- +goose Up
-- 00017's backfill rewrites every outbox row that has SendGrid events; until
-- the table is vacuumed, analytics' index-only scans read the table too and
-- are twice as slow as before (autovacuum had not come within 7 minutes at
-- 1,000,000 rows). VACUUM cannot run inside a transaction, hence its own
-- migration; on an empty or small outbox it takes milliseconds.
VACUUM (ANALYZE) emails;

-- +goose Down
SELECT 1;
