-- The sign-in record is stored as the JSON text the server wrote, not as
-- jsonb. Every record is written once (about 2 KB, by json.Marshal, so
-- always valid JSON) and read whole; only the impact report and the
-- rollout view look inside, and they parse it once per row (::jsonb).
-- Measured on 5,000 of the bench's own records, one multi-row INSERT into
-- a partition with the log's indexes, lz4: 33-43 us per record as jsonb
-- (18 us of it is jsonb_in), 24-34 us as json (validation), 15-16 us as
-- text. The rewrite runs once here, over every partition.
ALTER TABLE signin_logs ALTER COLUMN record TYPE text USING record::text;

-- ALTER ... TYPE rewrites the column; keep lz4 (migration 026) wherever
-- the server has it.
DO $$
DECLARE
    part regclass;
BEGIN
    ALTER TABLE signin_logs ALTER COLUMN record SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'signin_logs'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN record SET COMPRESSION lz4', part);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not supported by this server; sign-in records stay pglz-compressed';
END
$$;
