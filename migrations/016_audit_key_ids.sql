-- The audit log dropped every column whose name contains "key", which left
-- out application_passwords.key_id: a "Certificates and secrets
-- management" record then did not say which credential was added or
-- removed. Secret columns are matched as whole name parts now.
CREATE OR REPLACE FUNCTION audit_props(row_doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb) FROM (
        SELECT e.key AS k, e.value AS v
          FROM jsonb_each(row_doc) e
         WHERE e.key !~ '(^|_)(hash|secret|sealed|password|token)(_|$)|(^|_)(public|private)_key$' AND e.key NOT IN ('document', 'doc')
        UNION ALL
        SELECT d.key, d.value
          FROM jsonb_each(row_doc) e, jsonb_each(CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ELSE '{}'::jsonb END) d
         WHERE e.key IN ('document', 'doc') AND d.key !~ '(?i)(hash|secret|sealed|password|token)'
    ) p
$$;
