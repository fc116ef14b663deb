-- Directory: users, security groups with assigned membership, role assignments.

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    user_principal_name text NOT NULL,
    display_name        text NOT NULL,
    account_enabled     boolean NOT NULL DEFAULT true,
    is_emergency_access boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- UPNs are case-insensitive in Entra.
CREATE UNIQUE INDEX users_upn_key ON users (lower(user_principal_name));

CREATE TABLE groups (
    id               uuid PRIMARY KEY,
    display_name     text NOT NULL,
    description      text NOT NULL DEFAULT '',
    mail_nickname    text NOT NULL DEFAULT '',
    security_enabled boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE role_assignments (
    id                 uuid PRIMARY KEY,
    principal_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_definition_id uuid NOT NULL,
    directory_scope_id text NOT NULL DEFAULT '/',
    UNIQUE (principal_id, role_definition_id, directory_scope_id)
);

-- Token signing keys. The private key is sealed (AES-256-GCM) with the
-- server's master key; the database never holds it in clear.
CREATE TABLE signing_keys (
    kid                text PRIMARY KEY,
    algorithm          text NOT NULL,
    sealed_private_key bytea NOT NULL,
    public_key_der     bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz
);
