-- Directory audits (Graph directoryAudit): one row per admin change, written
-- by a trigger on the changed table, so the record is in the same
-- transaction as the change and no code path can change the directory
-- without auditing it (nor audit a change that rolled back).
--
-- Who acted comes from the connection: internal/store sets the session
-- settings rpserver.audit_actor (Graph's initiatedBy as JSON) and
-- rpserver.audit_correlation (the request id) when it hands a connection to
-- a request made by an admin or a signed-in user, and clears them for any
-- other use. A change made with no actor (a sign-in redeeming a TAP, the
-- counter of a passkey, the server's own housekeeping) is not an admin
-- change and is not audited: each trigger's WHEN clause skips it before any
-- trigger code runs, so the sign-in path pays nothing for this.
--
-- Secrets never reach the log: columns whose name says hash, secret,
-- sealed, password, token or key are dropped from the recorded values.
CREATE TABLE directory_audits (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    activity_date_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
    category              text NOT NULL,
    activity_display_name text NOT NULL,
    operation_type        text NOT NULL,
    result                text NOT NULL DEFAULT 'success',
    correlation_id        text NOT NULL DEFAULT '',
    initiated_by          jsonb NOT NULL,
    initiated_by_user_id  text NOT NULL DEFAULT '',
    initiated_by_upn      text NOT NULL DEFAULT '',
    target_id             text NOT NULL DEFAULT '',
    target_resources      jsonb NOT NULL
);
CREATE INDEX directory_audits_time_idx ON directory_audits (activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_category_idx ON directory_audits (category, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_initiator_idx ON directory_audits (initiated_by_user_id, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_target_idx ON directory_audits (target_id, activity_date_time DESC, id DESC);
CREATE INDEX directory_audits_correlation_idx ON directory_audits (correlation_id);

-- audit_props turns a row (as jsonb) into property -> value, without the
-- secret columns, with the keys of a JSON document column (the method
-- policies' and CA policies' Graph documents) lifted to properties of their
-- own so a PATCH shows what it changed, not the whole document twice.
CREATE FUNCTION audit_props(row_doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb) FROM (
        SELECT e.key AS k, e.value AS v
          FROM jsonb_each(row_doc) e
         WHERE e.key !~ '(hash|secret|sealed|password|token|key)' AND e.key NOT IN ('document', 'doc')
        UNION ALL
        SELECT d.key, d.value
          FROM jsonb_each(row_doc) e, jsonb_each(CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ELSE '{}'::jsonb END) d
         WHERE e.key IN ('document', 'doc') AND d.key !~ '(?i)(hash|secret|sealed|password|token)'
    ) p
$$;

-- audit_change is the trigger. Arguments: category, target type, id column,
-- display-name column ('' if none), activity names for insert, update and
-- delete (a leading '%' becomes User or Admin: whether the actor changed
-- their own security info or someone else's), the column naming the user
-- the row belongs to (''), and an optional second target: its id column
-- and type (a group's new member, a role's new holder).
CREATE FUNCTION audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor       jsonb := current_setting('rpserver.audit_actor', true)::jsonb;
    old_doc     jsonb := CASE WHEN TG_OP <> 'INSERT' THEN audit_props(to_jsonb(OLD)) END;
    new_doc     jsonb := CASE WHEN TG_OP <> 'DELETE' THEN audit_props(to_jsonb(NEW)) END;
    row_doc     jsonb := COALESCE(to_jsonb(NEW), to_jsonb(OLD));
    activity    text := CASE TG_OP WHEN 'INSERT' THEN TG_ARGV[4] WHEN 'UPDATE' THEN TG_ARGV[5] ELSE TG_ARGV[6] END;
    op_type     text := CASE TG_OP WHEN 'INSERT' THEN 'Add' WHEN 'UPDATE' THEN 'Update' ELSE 'Delete' END;
    modified    jsonb;
    targets     jsonb;
    actor_id    text := COALESCE(actor #>> '{user,id}', '');
    target_id   text := COALESCE(row_doc ->> TG_ARGV[2], '');
BEGIN
    IF activity IS NULL OR activity = '' THEN
        RETURN NULL;
    END IF;
    IF left(activity, 1) = '%' THEN
        activity := CASE WHEN actor_id <> '' AND actor_id = COALESCE(row_doc ->> TG_ARGV[7], '') THEN 'User' ELSE 'Admin' END || substr(activity, 2);
    END IF;
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'displayName', regexp_replace(initcap(replace(k, '_', ' ')), ' ', '', 'g'),
               'oldValue', CASE WHEN old_doc ? k THEN (old_doc -> k)::text END,
               'newValue', CASE WHEN new_doc ? k THEN (new_doc -> k)::text END) ORDER BY k), '[]'::jsonb)
      INTO modified
      FROM (SELECT jsonb_object_keys(COALESCE(old_doc, '{}'::jsonb) || COALESCE(new_doc, '{}'::jsonb)) AS k) keys
     WHERE TG_OP <> 'UPDATE' OR (old_doc -> k) IS DISTINCT FROM (new_doc -> k);
    IF TG_OP = 'UPDATE' AND modified = '[]'::jsonb THEN
        RETURN NULL; -- nothing an admin would call a change
    END IF;
    targets := jsonb_build_array(jsonb_build_object(
        'id', target_id, 'type', TG_ARGV[1],
        'displayName', CASE WHEN TG_ARGV[3] <> '' THEN row_doc ->> TG_ARGV[3] END,
        'userPrincipalName', row_doc ->> 'user_principal_name',
        'modifiedProperties', modified));
    IF TG_NARGS > 9 AND TG_ARGV[8] <> '' THEN
        targets := targets || jsonb_build_array(jsonb_build_object(
            'id', row_doc ->> TG_ARGV[8], 'type', TG_ARGV[9], 'displayName', NULL, 'userPrincipalName', NULL, 'modifiedProperties', '[]'::jsonb));
    END IF;
    INSERT INTO directory_audits (category, activity_display_name, operation_type, correlation_id, initiated_by,
                                  initiated_by_user_id, initiated_by_upn, target_id, target_resources)
    VALUES (TG_ARGV[0], activity, op_type, COALESCE(current_setting('rpserver.audit_correlation', true), ''), actor,
            actor_id, COALESCE(actor #>> '{user,userPrincipalName}', ''), target_id, targets);
    RETURN NULL;
END
$$;

-- One trigger per admin table. Activity names follow Entra's audit log.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('users', 'UserManagement', 'User', 'id', 'display_name', 'Add user', 'Update user', 'Delete user', '', '', ''),
        ('groups', 'GroupManagement', 'Group', 'id', 'display_name', 'Add group', 'Update group', 'Delete group', '', '', ''),
        ('group_members', 'GroupManagement', 'Group', 'group_id', '', 'Add member to group', '', 'Remove member from group', '', 'user_id', 'User'),
        ('group_owners', 'GroupManagement', 'Group', 'group_id', '', 'Add owner to group', '', 'Remove owner from group', '', 'user_id', 'User'),
        ('role_assignments', 'RoleManagement', 'Role', 'role_definition_id', '', 'Add member to role', 'Update role assignment', 'Remove member from role', '', 'principal_id', 'User'),
        -- The store inserts an empty placeholder row to lock before its first
        -- update: that insert is not a change, the update is.
        ('auth_method_configurations', 'Policy', 'Policy', 'id', '', '', 'Update authentication methods policy', 'Reset authentication methods policy', '', '', ''),
        ('temporary_access_passes', 'UserManagement', 'User', 'user_id', '', 'Admin registered security info', '', '% deleted security info', 'user_id', '', ''),
        ('conditional_access_policies', 'Policy', 'Policy', 'id', 'display_name', 'Add conditional access policy', 'Update conditional access policy', 'Delete conditional access policy', '', '', ''),
        ('authentication_strengths', 'Policy', 'Policy', 'id', 'display_name', 'Add authentication strength policy', 'Update authentication strength policy', 'Delete authentication strength policy', '', '', ''),
        ('authentication_contexts', 'Policy', 'Policy', 'id', 'display_name', 'Add authentication context', 'Update authentication context', 'Delete authentication context', '', '', ''),
        ('applications', 'ApplicationManagement', 'Application', 'id', 'display_name', 'Add application', 'Update application', 'Delete application', '', '', ''),
        ('application_passwords', 'ApplicationManagement', 'Application', 'application_id', 'display_name', 'Update application – Certificates and secrets management', '', 'Update application – Certificates and secrets management', '', '', ''),
        ('service_principals', 'ApplicationManagement', 'ServicePrincipal', 'id', 'display_name', 'Add service principal', 'Update service principal', 'Delete service principal', '', '', ''),
        ('risky_users', 'IdentityProtection', 'User', 'user_id', 'user_display_name', 'Update risky user', 'Update risky user', '', '', '', ''),
        ('webauthn_credentials', 'UserManagement', 'User', 'user_id', 'display_name', '% registered security info', '% updated security info', '% deleted security info', 'user_id', '', ''),
        ('password_credentials', 'UserManagement', 'User', 'user_id', '', '% reset password', '% reset password', '', 'user_id', '', ''),
        ('totp_methods', 'UserManagement', 'User', 'user_id', '', '% registered security info', '', '% deleted security info', 'user_id', '', ''),
        ('push_methods', 'UserManagement', 'User', 'user_id', 'display_name', '% registered security info', '', '% deleted security info', 'user_id', '', '')
    ) AS v(tbl, category, ttype, idcol, namecol, ins, upd, del, usercol, id2, type2)
    LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW
               WHEN (current_setting(''rpserver.audit_actor'', true) <> '''')
               EXECUTE FUNCTION audit_change(%L, %L, %L, %L, %L, %L, %L, %L, %L, %L)',
            t.tbl || '_audit', t.tbl, t.category, t.ttype, t.idcol, t.namecol, t.ins, t.upd, t.del, t.usercol, t.id2, t.type2);
    END LOOP;
END
$$;
