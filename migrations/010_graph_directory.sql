-- Graph's optional user profile properties (givenName, mail, jobTitle, ...)
-- and group owners / role-assignable groups, so Graph's documented request
-- bodies round-trip.

-- The profile properties are stored, returned and filtered on but never
-- acted on: one jsonb document holds them (members named as in Graph).
ALTER TABLE users ADD COLUMN profile jsonb NOT NULL DEFAULT '{}';
-- mail is filtered on more than the rest (Graph's own scripts look users up by it).
CREATE INDEX users_mail_idx ON users (lower(profile->>'mail'));
CREATE INDEX users_display_name_idx ON users (lower(display_name));

ALTER TABLE groups ADD COLUMN is_assignable_to_role boolean NOT NULL DEFAULT false;
CREATE INDEX groups_display_name_idx ON groups (lower(display_name));

CREATE TABLE group_owners (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_owners_user_idx ON group_owners (user_id);
