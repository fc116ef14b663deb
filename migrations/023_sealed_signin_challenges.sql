-- Sign-in challenges are sealed (internal/ceremony/seal.go): begin stores
-- nothing, and finish records the challenge's nonce as used. Both tables
-- are UNLOGGED, like the challenges before them: recording a use waits for
-- no WAL flush. What a crash or failover does (docs/performance.md): it
-- empties both; the next begin draws a new epoch, and every challenge
-- sealed under the old one is refused (challengeNotFound), so the nonces
-- the crash forgot can never be used again. Ceremonies in flight are begun
-- again, as before.
CREATE UNLOGGED TABLE webauthn_challenge_epoch (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch bigint NOT NULL
);

-- No index on expires_at: the purge scans a table of at most a few
-- minutes of sign-ins once a minute, which is cheaper than maintaining a
-- second index on every sign-in.
CREATE UNLOGGED TABLE webauthn_used_challenges (
    nonce bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- Sign-in challenges of the previous design; a ceremony begun before the
-- upgrade is begun again.
DELETE FROM webauthn_challenges WHERE kind = 'authentication';
