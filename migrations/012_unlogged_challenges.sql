-- Pending WebAuthn challenges are short-lived (minutes), single-use and
-- worthless after a crash: the user simply begins again. Keeping them out of
-- the WAL takes a WAL flush (an fsync'd commit) off both begin and the
-- challenge-taking half of finish, which is most of what a sign-in cost the
-- disk. What a crash or failover does, stated plainly (docs/performance.md):
-- after a crash PostgreSQL empties unlogged tables, and a standby never has
-- their rows, so ceremonies in flight fail at finish with
-- challengeNotFound and must be begun again; no challenge can be used
-- twice, because an emptied table cannot hand one out again.
--
-- The foreign key to users goes: its check takes a row lock on the user,
-- which is WAL-logged and would bring the flush back. A challenge of a
-- deleted user is harmless (finish joins the credential to its live owner)
-- and expires with the others.
ALTER TABLE webauthn_challenges DROP CONSTRAINT IF EXISTS webauthn_challenges_user_id_fkey;
ALTER TABLE webauthn_challenges SET UNLOGGED;
