-- WebAuthn: pending ceremony challenges and registered credentials.

-- A challenge row lives from begin to finish. It is keyed by the SHA-256 of
-- the challenge (which the browser echoes in clientDataJSON), so finish can
-- land on any server process sharing the database, and it is deleted by the
-- finish that uses it: single use is one DELETE ... RETURNING.
CREATE TABLE webauthn_challenges (
    challenge_hash bytea PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('registration', 'authentication')),
    user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
    session_data   bytea NOT NULL,
    label          text NOT NULL DEFAULT '', -- the passkey name asked for at begin
    expires_at     timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges (expires_at);

CREATE TABLE webauthn_credentials (
    id                  bytea PRIMARY KEY,
    method_id           uuid NOT NULL UNIQUE, -- Graph fido2AuthenticationMethod id
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key          bytea NOT NULL,       -- COSE_Key as registered
    aaguid              uuid NOT NULL,
    attestation_format  text NOT NULL,
    attestation_type    text NOT NULL,
    attestation         jsonb NOT NULL,       -- the attestation.Result report
    attested            boolean NOT NULL,
    trusted             boolean NOT NULL,
    backup_eligible     boolean NOT NULL,
    backup_state        boolean NOT NULL,
    user_verified       boolean NOT NULL,
    sign_count          bigint NOT NULL CHECK (sign_count >= 0),
    clone_suspected     boolean NOT NULL DEFAULT false,
    transports          text[] NOT NULL DEFAULT '{}',
    attachment          text NOT NULL DEFAULT '',
    display_name        text NOT NULL,
    passkey_profile_id  text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);
