-- 024's statement-level triggers fired for statements that changed no
-- row, and for every user update (the directory's UPDATE always names
-- user_principal_name): each emptied every server's allow cache. These
-- fire only for rows whose answer-relevant values changed. pg_notify with
-- the same payload is sent once per transaction however many rows fire.
DROP TRIGGER webauthn_credentials_allow_list ON webauthn_credentials;
DROP TRIGGER users_allow_list ON users;

CREATE TRIGGER webauthn_credentials_allow_list_insert_delete
    AFTER INSERT OR DELETE ON webauthn_credentials
    FOR EACH ROW EXECUTE FUNCTION notify_allow_list();
CREATE TRIGGER webauthn_credentials_allow_list_update
    AFTER UPDATE OF id, user_id, transports, created_at ON webauthn_credentials
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.user_id IS DISTINCT FROM NEW.user_id
        OR OLD.transports IS DISTINCT FROM NEW.transports OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION notify_allow_list();
CREATE TRIGGER webauthn_credentials_allow_list_truncate
    AFTER TRUNCATE ON webauthn_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION notify_allow_list();

CREATE TRIGGER users_allow_list_update
    AFTER UPDATE OF user_principal_name ON users
    FOR EACH ROW WHEN (OLD.user_principal_name IS DISTINCT FROM NEW.user_principal_name)
    EXECUTE FUNCTION notify_allow_list();
-- A deleted user's passkeys go by cascade, which fires the credentials'
-- delete trigger.
CREATE TRIGGER users_allow_list_truncate
    AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_allow_list();
