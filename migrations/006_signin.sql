-- Sign-in methods besides passkeys and TAP, and session revocation.

CREATE TABLE password_credentials (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       text NOT NULL, -- argon2id PHC string, never the password
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- softwareOathAuthenticationMethod: the TOTP secret is sealed with the
-- master key (the server must read it back to verify codes, so it cannot be
-- hashed). last_step stops a code from being used twice.
CREATE TABLE totp_methods (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret bytea NOT NULL,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX totp_methods_user_idx ON totp_methods (user_id);

-- microsoftAuthenticatorAuthenticationMethod, emulated: the "phone" proves
-- itself with a device token shown once at registration (stored as SHA-256;
-- it is 32 random bytes, so a slow hash adds nothing).
CREATE TABLE push_methods (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name      text NOT NULL,
    device_token_hash bytea NOT NULL UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_methods_user_idx ON push_methods (user_id);

CREATE TABLE push_requests (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number_match integer NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    app_name     text NOT NULL DEFAULT '',
    expires_at   timestamptz NOT NULL
);
CREATE INDEX push_requests_user_idx ON push_requests (user_id);

-- revokeSignInSessions: tokens issued before this instant are refused.
ALTER TABLE users ADD COLUMN sign_in_sessions_valid_from timestamptz NOT NULL DEFAULT '-infinity';
