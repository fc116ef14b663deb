-- The client (address) that began an anonymous ceremony, so the number of
-- challenges one client, and all anonymous clients together, hold
-- outstanding can be bounded in the INSERT that saves a new one.
ALTER TABLE webauthn_challenges ADD COLUMN client_key text;
CREATE INDEX webauthn_challenges_client_idx ON webauthn_challenges (client_key, expires_at) WHERE client_key IS NOT NULL;
