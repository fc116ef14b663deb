-- Every server keeps sign-in begins' answers (a name's passkey ids and
-- transports, and the challenge epoch) in memory while it LISTENs on
-- rpserver_allow_list (internal/store/allowcache.go); these triggers tell
-- every server, at commit, that an answer may have changed. Statement
-- level, and only on what the answer reads: the sign-in's counter update
-- (sign_count, backup_state, last_used_at) fires nothing.
CREATE FUNCTION notify_allow_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rpserver_allow_list', '');
    RETURN NULL;
END $$;

CREATE TRIGGER webauthn_credentials_allow_list
    AFTER INSERT OR DELETE OR UPDATE OF id, user_id, transports, created_at OR TRUNCATE ON webauthn_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION notify_allow_list();

CREATE TRIGGER users_allow_list
    AFTER DELETE OR UPDATE OF user_principal_name OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_allow_list();

CREATE TRIGGER webauthn_challenge_epoch_allow_list
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON webauthn_challenge_epoch
    FOR EACH STATEMENT EXECUTE FUNCTION notify_allow_list();
