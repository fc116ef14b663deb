-- The lab has no app role assignments, so appRoleAssignmentRequired true
-- was stored but never enforced: every user could sign in to such an app.
-- The API now refuses true (appRoleAssignmentNotSupported); this makes the
-- principals stored with it say what the server does.
UPDATE service_principals SET app_role_assignment_required = false WHERE app_role_assignment_required;
