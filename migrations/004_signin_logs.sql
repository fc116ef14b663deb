-- Sign-in logs, emergency-access alerts and risky users.

-- One row per sign-in: the Graph-shaped record as JSONB (what the API
-- returns, byte for byte) plus copies of the properties $filter can name, so
-- filters and keyset paging run on indexes instead of inside the JSON. Rows
-- are written in batches by signinlog.BatchWriter; there is no foreign key to
-- users because a log outlives the account it is about.
CREATE TABLE signin_logs (
    id                        uuid PRIMARY KEY,
    created_date_time         timestamptz NOT NULL,
    user_id                   uuid,                 -- NULL when the sign-in named no known user
    user_principal_name       text NOT NULL DEFAULT '',
    app_id                    text NOT NULL DEFAULT '',
    error_code                integer NOT NULL DEFAULT 0,
    conditional_access_status text NOT NULL DEFAULT '',
    is_emergency_access       boolean NOT NULL DEFAULT false,
    record                    jsonb NOT NULL
);
-- Lists are newest first with (created_date_time, id) as the keyset; every
-- filter index ends with the same pair so a filtered page is an index range.
CREATE INDEX signin_logs_time_idx ON signin_logs (created_date_time DESC, id DESC);
CREATE INDEX signin_logs_user_idx ON signin_logs (user_id, created_date_time DESC, id DESC);
CREATE INDEX signin_logs_upn_idx ON signin_logs (lower(user_principal_name), created_date_time DESC, id DESC);
CREATE INDEX signin_logs_app_idx ON signin_logs (app_id, created_date_time DESC, id DESC);
CREATE INDEX signin_logs_ca_status_idx ON signin_logs (conditional_access_status, created_date_time DESC, id DESC);
-- Failures are the rare rows admins hunt for; successes need no index of their own.
CREATE INDEX signin_logs_failure_idx ON signin_logs (error_code, created_date_time DESC, id DESC) WHERE error_code <> 0;

-- Alerts (Graph security alert, minimal): raised in the same transaction as
-- the emergency-access sign-in they are about, at most one per sign-in.
CREATE TABLE security_alerts (
    id                    uuid PRIMARY KEY,
    sign_in_id            uuid NOT NULL UNIQUE REFERENCES signin_logs (id) ON DELETE CASCADE,
    created_date_time     timestamptz NOT NULL,
    last_update_date_time timestamptz NOT NULL,
    resolved_date_time    timestamptz,
    status                text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'inProgress', 'resolved')),
    severity              text NOT NULL,
    title                 text NOT NULL,
    description           text NOT NULL,
    user_id               uuid,
    user_principal_name   text NOT NULL DEFAULT '',
    user_display_name     text NOT NULL DEFAULT ''
);
CREATE INDEX security_alerts_time_idx ON security_alerts (created_date_time DESC, id DESC);

-- Risky users (Graph riskyUser). A row exists once a user's risk was ever set;
-- it is kept when the user is deleted (isDeleted), as Entra keeps the history,
-- hence no foreign key. The UPN and display name are copies taken at the last
-- change, shown only once the user is gone.
CREATE TABLE risky_users (
    user_id                     uuid PRIMARY KEY,
    user_principal_name         text NOT NULL,
    user_display_name           text NOT NULL,
    risk_level                  text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high', 'hidden', 'none')),
    risk_state                  text NOT NULL CHECK (risk_state IN ('atRisk', 'confirmedCompromised', 'dismissed', 'remediated', 'none')),
    risk_detail                 text NOT NULL,
    risk_last_updated_date_time timestamptz NOT NULL
);
