-- log_partition_create (migration 020) took SHARE UPDATE EXCLUSIVE on the
-- parent, which inserts do not wait for. An insert whose row belongs to the
-- day being made was routed to the DEFAULT partition, waited there on the
-- ACCESS EXCLUSIVE lock the function holds, and when the function committed
-- PostgreSQL re-checked DEFAULT's constraint, which now excludes that day:
-- the insert failed (23514, "violates partition constraint"), a sign-in
-- with it. That is the catch-up case the DEFAULT partition exists for
-- (passes failing while sign-ins keep arriving for today), and the audit
-- trigger's insert, which would fail the admin's own change, is hit alike.
--
-- An insert locks the parent (ROW EXCLUSIVE) before it routes a row. For a
-- day that has begun (or begins within a day, for servers whose clock runs
-- ahead), the function now takes SHARE on the parent, which waits for the
-- inserts already running and holds new ones at the parent until it
-- commits; they then route to the new partition. Reads (ACCESS SHARE) do
-- not wait. Days made ahead, the daily case, still take SHARE UPDATE
-- EXCLUSIVE: no row can be in flight for them, and no insert waits.
CREATE OR REPLACE FUNCTION log_partition_create(parent text, col text, day date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    part  text := parent || '_p' || to_char(day, 'YYYYMMDD');
    lo    timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi    timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    moved bigint;
BEGIN
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- Locks in the order queries take them (parent, then partition), the
    -- default's strongest first, so no lock is upgraded half way. ONLY: a
    -- LOCK on the parent would otherwise take every partition too.
    IF lo < clock_timestamp() + interval '1 day' THEN
        EXECUTE format('LOCK TABLE ONLY %I IN SHARE MODE', parent);
    ELSE
        EXECUTE format('LOCK TABLE ONLY %I IN SHARE UPDATE EXCLUSIVE MODE', parent);
    END IF;
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent || '_default');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
    EXECUTE format('WITH m AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM m',
                   parent || '_default', col, col, part) USING lo, hi;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I >= %L AND %I < %L)', part, part || '_range', col, lo, col, hi);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_range');
    RETURN moved;
END
$$;
