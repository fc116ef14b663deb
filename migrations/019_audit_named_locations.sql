-- Named locations are an admin table too (Conditional Access uses them):
-- their changes go to the directory audit log like every other (014).
CREATE TRIGGER named_locations_audit AFTER INSERT OR UPDATE OR DELETE ON named_locations FOR EACH ROW
    WHEN (current_setting('rpserver.audit_actor', true) <> '')
    EXECUTE FUNCTION audit_change('Policy', 'Policy', 'id', 'display_name',
        'Add named location', 'Update named location', 'Delete named location', '', '', '');
