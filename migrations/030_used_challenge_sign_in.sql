-- A challenge taken in the commit of its sign-in's record (a sign-in
-- decided on a server's copies: signinlog.ChallengeClaim) records that
-- sign-in, so that the record retried alone after a commit whose answer
-- was lost is recognised as the one that took it, without a lookup in the
-- partitioned sign-in log (whose every partition a generic plan would
-- open on each batch). NULL for a challenge taken by the take.
ALTER TABLE webauthn_used_challenges ADD COLUMN sign_in_id uuid;
