-- The anonymous pending-challenge bound (migration 009) is gone with the
-- sealed sign-in challenges (023): nothing writes or reads the client key
-- of a challenge any more.
DROP INDEX IF EXISTS webauthn_challenges_client_idx;
ALTER TABLE webauthn_challenges DROP COLUMN IF EXISTS client_key;
