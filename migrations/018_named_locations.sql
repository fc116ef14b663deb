-- Conditional Access named locations (Graph's ipNamedLocation and
-- countryNamedLocation), each its Graph JSON document. Writes bump
-- conditional_access_version like policies do: compiled policies carry the
-- locations sign-ins are matched against.
CREATE TABLE named_locations (
    id           uuid PRIMARY KEY,
    display_name text NOT NULL,
    doc          jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_at  timestamptz
);
