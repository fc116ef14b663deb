-- Smart lockout: failed password and verification-code guesses per user,
-- counted separately for familiar locations (addresses the user has signed
-- in from with that factor) and unfamiliar ones, so an attack from
-- elsewhere does not lock the user out where they usually sign in.
CREATE TABLE sign_in_lockouts (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    factor       text NOT NULL CHECK (factor IN ('password', 'softwareOath')),
    familiar     boolean NOT NULL,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (user_id, factor, familiar)
);

CREATE TABLE familiar_sign_in_addresses (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address   text NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (user_id, address)
);
