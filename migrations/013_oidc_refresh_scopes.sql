-- Refresh tokens keep the scopes they were granted, so a refreshed access
-- token carries the same scp. (Codes are spent when tokens are made from
-- them, after the client authenticated, not when they are looked up.)
ALTER TABLE oidc_refresh_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{}';
