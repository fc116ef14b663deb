-- The registration campaign's snoozes: how often each user skipped the
-- "set up Microsoft Authenticator" nudge and when last. One row per user;
-- the count only grows (Entra allows three skips when enforcement is on).
CREATE TABLE registration_campaign_snoozes (
    user_id         uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    snooze_count    integer NOT NULL CHECK (snooze_count >= 0),
    last_snoozed_at timestamptz NOT NULL
);
