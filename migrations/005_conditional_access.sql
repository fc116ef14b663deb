-- Conditional Access policies and custom authentication strengths.
--
-- Each resource is its Graph JSON document (JSONB) plus the columns the
-- server queries or constrains. The tenant-wide policy version lets every
-- server keep compiled policies in memory and re-read them only when it
-- changed: every write bumps it in the same transaction, so a reader never
-- sees a new version with old rows (a sequence would be bumped outside the
-- transaction and could).

CREATE TABLE conditional_access_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL
);
INSERT INTO conditional_access_version (singleton, version) VALUES (true, 0);

-- Built-in strengths live in code (internal/policy); only custom ones here.
CREATE TABLE authentication_strengths (
    id           uuid PRIMARY KEY,
    display_name text NOT NULL,
    doc          jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_at  timestamptz
);
-- Entra refuses two strengths with the same name.
CREATE UNIQUE INDEX authentication_strengths_name_key ON authentication_strengths (lower(display_name));

CREATE TABLE conditional_access_policies (
    id           uuid PRIMARY KEY,
    display_name text NOT NULL,
    state        text NOT NULL CHECK (state IN ('enabled', 'disabled', 'enabledForReportingButNotEnforced')),
    -- The custom strength the grant requires, if any: the foreign key makes
    -- deleting a strength in use fail even against a concurrent save.
    custom_strength_id uuid REFERENCES authentication_strengths (id) ON DELETE RESTRICT,
    doc          jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_at  timestamptz
);
CREATE INDEX conditional_access_policies_strength_idx ON conditional_access_policies (custom_strength_id);

-- Emergency-access accounts are read on every CA save (lockout protection).
CREATE INDEX users_emergency_idx ON users (id) WHERE is_emergency_access;
