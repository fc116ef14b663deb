-- Alerts that no sign-in raised (a forced override of Conditional Access
-- lockout protection) have no sign-in to point at.
ALTER TABLE security_alerts ALTER COLUMN sign_in_id DROP NOT NULL;
