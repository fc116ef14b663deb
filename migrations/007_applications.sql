-- App registrations (Graph's application), their service principals in the
-- lab tenant, and the OpenID Connect provider's state.

CREATE TABLE applications (
    id                        uuid PRIMARY KEY,
    app_id                    uuid NOT NULL UNIQUE,
    display_name              text NOT NULL,
    description               text NOT NULL DEFAULT '',
    sign_in_audience          text NOT NULL DEFAULT 'AzureADMyOrg',
    web_redirect_uris         text[] NOT NULL DEFAULT '{}',
    web_logout_url            text NOT NULL DEFAULT '',
    spa_redirect_uris         text[] NOT NULL DEFAULT '{}',
    public_client_redirect_uris text[] NOT NULL DEFAULT '{}',
    is_fallback_public_client boolean NOT NULL DEFAULT false,
    required_resource_access  jsonb NOT NULL DEFAULT '[]',
    created_at                timestamptz NOT NULL DEFAULT now()
);

-- passwordCredential: the secret is shown once by addPassword and kept only
-- as an argon2id hash; hint is its first three characters, as Graph shows.
CREATE TABLE application_passwords (
    key_id         uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    display_name   text NOT NULL DEFAULT '',
    hint           text NOT NULL,
    secret_hash    text NOT NULL,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL
);
CREATE INDEX application_passwords_app_idx ON application_passwords (application_id);

-- servicePrincipal: the app in this tenant. Built-in (Microsoft) apps have
-- no application object here (application_id NULL); a registered app's
-- principal goes when its application is deleted, as in Entra.
CREATE TABLE service_principals (
    id                           uuid PRIMARY KEY,
    app_id                       uuid NOT NULL UNIQUE,
    application_id               uuid REFERENCES applications (id) ON DELETE CASCADE,
    display_name                 text NOT NULL,
    account_enabled              boolean NOT NULL DEFAULT true,
    app_role_assignment_required boolean NOT NULL DEFAULT false,
    app_owner_organization_id    uuid,
    tags                         text[] NOT NULL DEFAULT '{}',
    created_at                   timestamptz NOT NULL DEFAULT now()
);

-- The apps every tenant has. The portal is the lab's own; the others keep
-- Microsoft's well-known app ids so Conditional Access policies copied from
-- a real tenant target the same ids. f8cdef31-... is Microsoft's tenant.
INSERT INTO service_principals (id, app_id, display_name, app_owner_organization_id, tags) VALUES
    ('5a1b0000-0000-4000-8000-00000000a001', '00000000-0000-0000-0000-00000000a001', 'rpserver lab portal', NULL, '{builtIn}'),
    ('5a1b0000-0000-4000-8000-000000000003', '00000003-0000-0000-c000-000000000000', 'Microsoft Graph', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}'),
    ('5a1b0000-0000-4000-8000-0000000000a2', 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', 'Azure Portal', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}'),
    ('5a1b0000-0000-4000-8000-000000000ff1', '00000003-0000-0ff1-ce00-000000000000', 'Office 365 SharePoint Online', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}'),
    ('5a1b0000-0000-4000-8000-000000000ff2', '00000002-0000-0ff1-ce00-000000000000', 'Office 365 Exchange Online', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}'),
    ('5a1b0000-0000-4000-8000-0000000007f8', '797f4846-ba00-4fd7-ba43-dac1f8f63013', 'Azure Resource Manager', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}'),
    ('5a1b0000-0000-4000-8000-00000000000a', '0000000a-0000-0000-c000-000000000000', 'Microsoft Intune', 'f8cdef31-a31e-4b4a-93e4-5f571e91255a', '{builtIn}');

-- authenticationContextClassReference: c1..c99, as Entra allows.
CREATE TABLE authentication_contexts (
    id           text PRIMARY KEY CHECK (id ~ '^c([1-9]|[1-9][0-9])$'),
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    is_available boolean NOT NULL DEFAULT false
);

-- Signing keys of the OpenID Connect provider (RS256 and ES256), sealed with
-- the master key like signing_keys. Retired keys stay published until
-- expires_at so tokens signed before a rotation still verify.
CREATE TABLE oidc_signing_keys (
    kid                text PRIMARY KEY,
    algorithm          text NOT NULL CHECK (algorithm IN ('RS256', 'ES256')),
    sealed_private_key bytea NOT NULL,
    public_key_der     bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz
);

-- An authorization request between /authorize and /token. The code is kept
-- as SHA-256 (it is 32 random bytes) and spent by deleting the row, so a
-- replayed code finds nothing.
CREATE TABLE oidc_auth_requests (
    id         uuid PRIMARY KEY,
    client_id  text NOT NULL,
    request    jsonb NOT NULL,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    grant_data jsonb,
    code_hash  bytea UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry_idx ON oidc_auth_requests (expires_at);

-- Refresh tokens, as SHA-256 of the token. Each use replaces the row
-- (rotation); the session instant lets revokeSignInSessions invalidate them.
CREATE TABLE oidc_refresh_tokens (
    token_hash   bytea PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    client_id    text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grant_data   jsonb NOT NULL,
    session_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX oidc_refresh_tokens_user_idx ON oidc_refresh_tokens (user_id);
