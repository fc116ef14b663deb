-- A version of everything a passkey sign-in reads about a credential's
-- owner (store.factsColumns: the user's names, enabled and emergency
-- flags, session validity, groups, roles, registered methods, risk and
-- temporary access passes), per user. Every change to any of it, by any
-- server, bumps the owner's version in the change's own transaction (row
-- triggers below). The sign-in's take reads the version in the same
-- snapshot as the challenge and the credential, and when it equals the
-- version this server's copy of the owner's facts was read at, under the
-- same challenge epoch (store/factscache.go), the copy is exactly what the
-- take would have read, so the take leaves the facts' subqueries out. A
-- user with no row is at version 0; rows are never deleted (a deleted
-- user's row stays, a few bytes, and its id is never reused), so on one
-- database history a version never repeats. Another history (a promoted
-- standby that missed commits, a point-in-time recovery, a restore) can
-- repeat a version with other facts: the challenge epoch is unlogged and
-- so drawn anew on each of them, and a copy is used only under the epoch
-- it was read at.
-- Logged: it survives a crash with the data it versions.
--
-- A bump locks the user's row to the commit, so two transactions that
-- change the facts of the same two users in opposite orders can now
-- deadlock (PostgreSQL aborts one); the server's own multi-user writes
-- (a group created with members, a risk action on several users) take the
-- users in id order.
CREATE TABLE sign_in_facts_versions (
    user_id uuid PRIMARY KEY,
    version bigint NOT NULL
);

CREATE FUNCTION bump_sign_in_facts_version(uid uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO sign_in_facts_versions AS v (user_id, version) VALUES (uid, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1
$$;

CREATE FUNCTION bump_sign_in_facts_version_by_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_sign_in_facts_version(OLD.user_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        PERFORM bump_sign_in_facts_version(NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION bump_sign_in_facts_version_by_principal_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_sign_in_facts_version(OLD.principal_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.principal_id IS DISTINCT FROM OLD.principal_id) THEN
        PERFORM bump_sign_in_facts_version(NEW.principal_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION bump_sign_in_facts_version_of_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_sign_in_facts_version(OLD.id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id) THEN
        PERFORM bump_sign_in_facts_version(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row trigger: every version moves, and every user
-- without a row gets one (so its implied 0 moves too).
CREATE FUNCTION bump_every_sign_in_facts_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sign_in_facts_versions SET version = version + 1;
    INSERT INTO sign_in_facts_versions (user_id, version) SELECT id, 1 FROM users ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
END
$$;

-- Row triggers that fire only for rows whose read values changed: the
-- hot path's own writes (a passkey's counter, backup state and last use)
-- name none of the watched columns, so they bump nothing. Each is enabled
-- ALWAYS, so it fires under session_replication_role = replica too
-- (logical replication's apply, pg_restore --disable-triggers).
CREATE TRIGGER users_facts_version_update
    AFTER UPDATE OF id, user_principal_name, display_name, account_enabled, is_emergency_access, sign_in_sessions_valid_from ON users
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.user_principal_name IS DISTINCT FROM NEW.user_principal_name
        OR OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.account_enabled IS DISTINCT FROM NEW.account_enabled
        OR OLD.is_emergency_access IS DISTINCT FROM NEW.is_emergency_access
        OR OLD.sign_in_sessions_valid_from IS DISTINCT FROM NEW.sign_in_sessions_valid_from)
    EXECUTE FUNCTION bump_sign_in_facts_version_of_user();
ALTER TABLE users ENABLE ALWAYS TRIGGER users_facts_version_update;
-- A deleted user's credentials go by cascade (nothing is left to sign in
-- with); a new user starts at version 0 with nothing cached.

CREATE TRIGGER group_members_facts_version_insert_delete AFTER INSERT OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER group_members_facts_version_update AFTER UPDATE OF user_id, group_id ON group_members
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.group_id IS DISTINCT FROM NEW.group_id)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE group_members ENABLE ALWAYS TRIGGER group_members_facts_version_insert_delete, ENABLE ALWAYS TRIGGER group_members_facts_version_update;

CREATE TRIGGER role_assignments_facts_version_insert_delete AFTER INSERT OR DELETE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_principal_id();
CREATE TRIGGER role_assignments_facts_version_update AFTER UPDATE OF principal_id, role_definition_id ON role_assignments
    FOR EACH ROW WHEN (OLD.principal_id IS DISTINCT FROM NEW.principal_id OR OLD.role_definition_id IS DISTINCT FROM NEW.role_definition_id)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_principal_id();
ALTER TABLE role_assignments ENABLE ALWAYS TRIGGER role_assignments_facts_version_insert_delete, ENABLE ALWAYS TRIGGER role_assignments_facts_version_update;

CREATE TRIGGER risky_users_facts_version_insert_delete AFTER INSERT OR DELETE ON risky_users
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER risky_users_facts_version_update AFTER UPDATE OF user_id, risk_level, risk_state ON risky_users
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.risk_level IS DISTINCT FROM NEW.risk_level OR OLD.risk_state IS DISTINCT FROM NEW.risk_state)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE risky_users ENABLE ALWAYS TRIGGER risky_users_facts_version_insert_delete, ENABLE ALWAYS TRIGGER risky_users_facts_version_update;

CREATE TRIGGER password_credentials_facts_version_insert_delete AFTER INSERT OR DELETE ON password_credentials
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER password_credentials_facts_version_update AFTER UPDATE OF user_id ON password_credentials
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE password_credentials ENABLE ALWAYS TRIGGER password_credentials_facts_version_insert_delete, ENABLE ALWAYS TRIGGER password_credentials_facts_version_update;

CREATE TRIGGER totp_methods_facts_version_insert_delete AFTER INSERT OR DELETE ON totp_methods
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER totp_methods_facts_version_update AFTER UPDATE OF user_id ON totp_methods
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE totp_methods ENABLE ALWAYS TRIGGER totp_methods_facts_version_insert_delete, ENABLE ALWAYS TRIGGER totp_methods_facts_version_update;

CREATE TRIGGER push_methods_facts_version_insert_delete AFTER INSERT OR DELETE ON push_methods
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER push_methods_facts_version_update AFTER UPDATE OF user_id ON push_methods
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE push_methods ENABLE ALWAYS TRIGGER push_methods_facts_version_insert_delete, ENABLE ALWAYS TRIGGER push_methods_facts_version_update;

CREATE TRIGGER webauthn_credentials_facts_version_insert_delete AFTER INSERT OR DELETE ON webauthn_credentials
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER webauthn_credentials_facts_version_update AFTER UPDATE OF user_id, clone_suspected ON webauthn_credentials
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.clone_suspected IS DISTINCT FROM NEW.clone_suspected)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE webauthn_credentials ENABLE ALWAYS TRIGGER webauthn_credentials_facts_version_insert_delete, ENABLE ALWAYS TRIGGER webauthn_credentials_facts_version_update;

CREATE TRIGGER temporary_access_passes_facts_version_insert_delete AFTER INSERT OR DELETE ON temporary_access_passes
    FOR EACH ROW EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
CREATE TRIGGER temporary_access_passes_facts_version_update AFTER UPDATE OF user_id, start_at, lifetime_minutes, is_usable_once, last_used_at ON temporary_access_passes
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.start_at IS DISTINCT FROM NEW.start_at OR OLD.lifetime_minutes IS DISTINCT FROM NEW.lifetime_minutes OR OLD.is_usable_once IS DISTINCT FROM NEW.is_usable_once OR OLD.last_used_at IS DISTINCT FROM NEW.last_used_at)
    EXECUTE FUNCTION bump_sign_in_facts_version_by_user_id();
ALTER TABLE temporary_access_passes ENABLE ALWAYS TRIGGER temporary_access_passes_facts_version_insert_delete, ENABLE ALWAYS TRIGGER temporary_access_passes_facts_version_update;

CREATE TRIGGER users_facts_version_truncate AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE users ENABLE ALWAYS TRIGGER users_facts_version_truncate;
CREATE TRIGGER group_members_facts_version_truncate AFTER TRUNCATE ON group_members FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE group_members ENABLE ALWAYS TRIGGER group_members_facts_version_truncate;
CREATE TRIGGER role_assignments_facts_version_truncate AFTER TRUNCATE ON role_assignments FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE role_assignments ENABLE ALWAYS TRIGGER role_assignments_facts_version_truncate;
CREATE TRIGGER risky_users_facts_version_truncate AFTER TRUNCATE ON risky_users FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE risky_users ENABLE ALWAYS TRIGGER risky_users_facts_version_truncate;
CREATE TRIGGER password_credentials_facts_version_truncate AFTER TRUNCATE ON password_credentials FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE password_credentials ENABLE ALWAYS TRIGGER password_credentials_facts_version_truncate;
CREATE TRIGGER totp_methods_facts_version_truncate AFTER TRUNCATE ON totp_methods FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE totp_methods ENABLE ALWAYS TRIGGER totp_methods_facts_version_truncate;
CREATE TRIGGER push_methods_facts_version_truncate AFTER TRUNCATE ON push_methods FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE push_methods ENABLE ALWAYS TRIGGER push_methods_facts_version_truncate;
CREATE TRIGGER webauthn_credentials_facts_version_truncate AFTER TRUNCATE ON webauthn_credentials FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE webauthn_credentials ENABLE ALWAYS TRIGGER webauthn_credentials_facts_version_truncate;
CREATE TRIGGER temporary_access_passes_facts_version_truncate AFTER TRUNCATE ON temporary_access_passes FOR EACH STATEMENT EXECUTE FUNCTION bump_every_sign_in_facts_version();
ALTER TABLE temporary_access_passes ENABLE ALWAYS TRIGGER temporary_access_passes_facts_version_truncate;
