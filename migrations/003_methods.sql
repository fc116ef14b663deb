-- Authentication methods policy: method configurations and Temporary Access Passes.

-- One row per method configuration ('fido2', 'temporaryAccessPass'), the
-- Graph-shaped document as JSONB. version grows by one on every write; writes
-- are read-modify-write under the row lock (SELECT ... FOR UPDATE), so a
-- document is never half-written nor lost to a concurrent update.
CREATE TABLE auth_method_configurations (
    id         text PRIMARY KEY,
    document   jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Temporary Access Passes: the argon2id hash only, never the pass. At most
-- one per user (Graph's rule). Expiry is computed from start_at and
-- lifetime_minutes; last_used_at doubles as the one-time "used" marker and
-- is set by a single conditional UPDATE ... RETURNING.
CREATE TABLE temporary_access_passes (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    secret_hash      text NOT NULL,
    created_at       timestamptz NOT NULL,
    start_at         timestamptz NOT NULL,
    lifetime_minutes integer NOT NULL CHECK (lifetime_minutes > 0),
    is_usable_once   boolean NOT NULL,
    last_used_at     timestamptz
);

-- TAP sign-in attempts per user in a fixed window, shared by every server
-- process on the database. attempts counts guesses that did not match (and
-- guesses still being verified); the upsert that reserves an attempt is
-- atomic, so the limit holds under concurrency.
CREATE TABLE tap_attempts (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL CHECK (attempts >= 0)
);
