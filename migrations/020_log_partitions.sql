-- The sign-in log and the directory audit log are kept for a retention
-- window (30 days by default) and stored in daily range partitions of their
-- time column (UTC days), so that removing a day is dropping a table (no
-- DELETE, no vacuum, no index bloat) and an insert only ever touches the
-- small indexes of today's partition however long the history is.
-- internal/retention creates partitions ahead and drops those wholly older
-- than the window (docs/deploy.md, "Retention").
--
-- A DEFAULT partition takes any row no day partition covers (a clock far
-- ahead, a server that was down while its partitions ran out), so an insert
-- never fails for lack of a partition; log_partition_create moves such rows
-- into the day's partition when it is made.
--
-- A primary key of a partitioned table must contain the partition key: it
-- is (time, id) now, which also serves the newest-first keyset (read
-- backwards), so the separate time index goes. An id alone is still looked
-- up (GET by id, the alert's sign-in check) through a plain index on id;
-- ids are random UUIDs, so uniqueness by (time, id) loses nothing, and a
-- retried sign-in record (same id, same time) still conflicts.
--
-- security_alerts loses its foreign key to the sign-in (a key into a
-- partitioned table would have to carry the time, and would forbid dropping
-- a day whose sign-ins raised alerts): an alert outlives the sign-in it is
-- about, as it outlives the user; retention deletes resolved alerts older
-- than the sign-in log's window.

ALTER TABLE security_alerts DROP CONSTRAINT security_alerts_sign_in_id_fkey;

-- log_partition_create makes parent's partition for the UTC day `day`
-- (named parent_pYYYYMMDD), moving into it the rows the default partition
-- holds for that day, and returns how many it moved; NULL if the partition
-- exists. The table is made apart and attached (SHARE UPDATE EXCLUSIVE on
-- the parent, which inserts and reads do not wait for), with a CHECK
-- matching the range so attaching needs no scan of it. Callers serialise on
-- an advisory lock (internal/store/retention.go).
CREATE FUNCTION log_partition_create(parent text, col text, day date) RETURNS bigint LANGUAGE plpgsql AS $$
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
    EXECUTE format('LOCK TABLE ONLY %I IN SHARE UPDATE EXCLUSIVE MODE', parent);
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

-- Sign-in log.
ALTER TABLE signin_logs RENAME TO signin_logs_unpartitioned;
CREATE TABLE signin_logs (
    id                        uuid NOT NULL,
    created_date_time         timestamptz NOT NULL,
    user_id                   uuid,
    user_principal_name       text NOT NULL DEFAULT '',
    app_id                    text NOT NULL DEFAULT '',
    error_code                integer NOT NULL DEFAULT 0,
    conditional_access_status text NOT NULL DEFAULT '',
    is_emergency_access       boolean NOT NULL DEFAULT false,
    record                    jsonb NOT NULL
) PARTITION BY RANGE (created_date_time);
CREATE TABLE signin_logs_default PARTITION OF signin_logs DEFAULT;

-- Directory audit log.
ALTER TABLE directory_audits RENAME TO directory_audits_unpartitioned;
CREATE TABLE directory_audits (
    id                    uuid NOT NULL DEFAULT gen_random_uuid(),
    activity_date_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
    category              text NOT NULL,
    activity_display_name text NOT NULL,
    operation_type        text NOT NULL,
    result                text NOT NULL DEFAULT 'success',
    correlation_id        text NOT NULL DEFAULT '',
    initiated_by          jsonb NOT NULL,
    initiated_by_user_id  text NOT NULL DEFAULT '',
    initiated_by_upn      text NOT NULL DEFAULT '',
    target_id             text NOT NULL DEFAULT '',
    target_resources      jsonb NOT NULL
) PARTITION BY RANGE (activity_date_time);
CREATE TABLE directory_audits_default PARTITION OF directory_audits DEFAULT;

-- Existing rows keep their days: one partition per day that has any (the
-- server then drops the days past the window at its next start), copied
-- before the indexes exist, which is the fast order for a bulk load.
DO $$
DECLARE
    d date;
BEGIN
    FOR d IN SELECT DISTINCT (created_date_time AT TIME ZONE 'UTC')::date FROM signin_logs_unpartitioned LOOP
        PERFORM log_partition_create('signin_logs', 'created_date_time', d);
    END LOOP;
    FOR d IN SELECT DISTINCT (activity_date_time AT TIME ZONE 'UTC')::date FROM directory_audits_unpartitioned LOOP
        PERFORM log_partition_create('directory_audits', 'activity_date_time', d);
    END LOOP;
END
$$;
INSERT INTO signin_logs SELECT id, created_date_time, user_id, user_principal_name, app_id, error_code,
    conditional_access_status, is_emergency_access, record FROM signin_logs_unpartitioned;
INSERT INTO directory_audits SELECT id, activity_date_time, category, activity_display_name, operation_type, result,
    correlation_id, initiated_by, initiated_by_user_id, initiated_by_upn, target_id, target_resources FROM directory_audits_unpartitioned;
DROP TABLE signin_logs_unpartitioned;
DROP TABLE directory_audits_unpartitioned;

-- The indexes of 004 and 014, on every partition (present and future).
ALTER TABLE signin_logs ADD CONSTRAINT signin_logs_pkey PRIMARY KEY (created_date_time, id);
CREATE INDEX signin_logs_id_idx ON signin_logs (id);
CREATE INDEX signin_logs_user_idx ON signin_logs (user_id, created_date_time DESC, id DESC);
CREATE INDEX signin_logs_upn_idx ON signin_logs (lower(user_principal_name), created_date_time DESC, id DESC);
CREATE INDEX signin_logs_app_idx ON signin_logs (app_id, created_date_time DESC, id DESC);
CREATE INDEX signin_logs_ca_status_idx ON signin_logs (conditional_access_status, created_date_time DESC, id DESC);
CREATE INDEX signin_logs_failure_idx ON signin_logs (error_code, created_date_time DESC, id DESC) WHERE error_code <> 0;

ALTER TABLE directory_audits ADD CONSTRAINT directory_audits_pkey PRIMARY KEY (activity_date_time, id);
CREATE INDEX directory_audits_id_idx ON directory_audits (id);
CREATE INDEX directory_audits_category_idx ON directory_audits (category, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_initiator_idx ON directory_audits (initiated_by_user_id, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_target_idx ON directory_audits (target_id, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_correlation_idx ON directory_audits (correlation_id);
