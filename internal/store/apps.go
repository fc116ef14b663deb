package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
)

// Apps implements apps.Store.
type Apps struct{ db *DB }

// Apps returns the app-registration store.
func (db *DB) Apps() *Apps { return &Apps{db: db} }

var _ apps.Store = (*Apps)(nil)

const appCols = `id::text, app_id::text, display_name, description, sign_in_audience, web_redirect_uris, web_logout_url,
	spa_redirect_uris, public_client_redirect_uris, is_fallback_public_client, required_resource_access, created_at`

func scanApp(row pgx.Row) (apps.Application, error) {
	var a apps.Application
	var rra []byte
	err := row.Scan(&a.ID, &a.AppID, &a.DisplayName, &a.Description, &a.SignInAudience, &a.Web.RedirectURIs, &a.Web.LogoutURL,
		&a.Spa.RedirectURIs, &a.PublicClient.RedirectURIs, &a.IsFallbackPublicClient, &rra, &a.CreatedDateTime)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(rra, &a.RequiredResourceAccess); err != nil {
		return a, fmt.Errorf("requiredResourceAccess: %w", err)
	}
	return a, nil
}

func errAppNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "application %q does not exist", id)
}

func errSPNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "service principal %q does not exist", id)
}

// withPasswords fills the credentials (without hashes) of the given apps in
// one query.
func (s *Apps) withPasswords(ctx context.Context, list []apps.Application) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	byID := map[string]*apps.Application{}
	for i := range list {
		ids[i] = list[i].ID
		list[i].PasswordCredentials = []apps.PasswordCredential{}
		byID[list[i].ID] = &list[i]
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT application_id::text, key_id::text, display_name, hint, start_at, end_at
		FROM application_passwords WHERE application_id = ANY($1::uuid[]) ORDER BY start_at, key_id`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var appID string
		var c apps.PasswordCredential
		if err := rows.Scan(&appID, &c.KeyID, &c.DisplayName, &c.Hint, &c.StartDateTime, &c.EndDateTime); err != nil {
			return err
		}
		a := byID[appID]
		a.PasswordCredentials = append(a.PasswordCredentials, c)
	}
	return rows.Err()
}

func (s *Apps) one(ctx context.Context, where string, arg any, nf *apperr.Error) (apps.Application, error) {
	a, err := scanApp(s.db.Pool.QueryRow(ctx, `SELECT `+appCols+` FROM applications WHERE `+where, arg))
	if err != nil {
		return a, notFound(err, nf)
	}
	list := []apps.Application{a}
	if err := s.withPasswords(ctx, list); err != nil {
		return a, err
	}
	return list[0], nil
}

func (s *Apps) CreateApplication(ctx context.Context, a apps.Application) (apps.Application, error) {
	rra, err := json.Marshal(a.RequiredResourceAccess)
	if err != nil {
		return apps.Application{}, err
	}
	out, err := scanApp(s.db.Pool.QueryRow(ctx, `INSERT INTO applications (id, app_id, display_name, description, sign_in_audience,
		web_redirect_uris, web_logout_url, spa_redirect_uris, public_client_redirect_uris, is_fallback_public_client, required_resource_access)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+appCols,
		a.ID, a.AppID, a.DisplayName, a.Description, a.SignInAudience, a.Web.RedirectURIs, a.Web.LogoutURL,
		a.Spa.RedirectURIs, a.PublicClient.RedirectURIs, a.IsFallbackPublicClient, rra))
	if err != nil {
		if pgCode(err) == pgUniqueViolation {
			return out, apperr.Conflict(apps.CodeDuplicateAppID, "appId %s is taken", a.AppID)
		}
		return out, fmt.Errorf("create application: %w", err)
	}
	out.PasswordCredentials = []apps.PasswordCredential{}
	return out, nil
}

func (s *Apps) GetApplication(ctx context.Context, id string) (apps.Application, error) {
	a, err := s.one(ctx, `id = $1`, id, errAppNotFound(id))
	if err != nil {
		return a, fmt.Errorf("get application: %w", err)
	}
	return a, nil
}

func (s *Apps) ApplicationByAppID(ctx context.Context, appID string) (apps.Application, error) {
	a, err := s.one(ctx, `app_id = $1`, appID, apperr.NotFound(apperr.CodeNotFound, "no application has appId %q", appID))
	if err != nil {
		return a, fmt.Errorf("application by appId: %w", err)
	}
	return a, nil
}

func (s *Apps) ListApplications(ctx context.Context, p apps.Page) ([]apps.Application, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+appCols+` FROM applications WHERE id > $1 ORDER BY id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (apps.Application, error) { return scanApp(r) })
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	if err := s.withPasswords(ctx, list); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return list, nil
}

func (s *Apps) UpdateApplication(ctx context.Context, id string, p apps.ApplicationPatch) (apps.Application, error) {
	var web, spa, pub, logout any
	if p.Web != nil {
		web, logout = p.Web.RedirectURIs, p.Web.LogoutURL
	}
	if p.Spa != nil {
		spa = p.Spa.RedirectURIs
	}
	if p.PublicClient != nil {
		pub = p.PublicClient.RedirectURIs
	}
	var rra any
	if p.RequiredResourceAccess != nil {
		b, err := json.Marshal(*p.RequiredResourceAccess)
		if err != nil {
			return apps.Application{}, err
		}
		rra = b
	}
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE applications SET
		display_name = coalesce($2, display_name), description = coalesce($3, description),
		web_redirect_uris = coalesce($4, web_redirect_uris), web_logout_url = coalesce($5, web_logout_url),
		spa_redirect_uris = coalesce($6, spa_redirect_uris), public_client_redirect_uris = coalesce($7, public_client_redirect_uris),
		is_fallback_public_client = coalesce($8, is_fallback_public_client), required_resource_access = coalesce($9::jsonb, required_resource_access)
		WHERE id = $1`, id, p.DisplayName, p.Description, web, logout, spa, pub, p.IsFallbackPublicClient, rra)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAppNotFound(id)
		}
		if p.DisplayName != nil {
			// The principal shows the app's name, as Graph's appDisplayName does.
			_, err = tx.Exec(ctx, `UPDATE service_principals SET display_name = $2 WHERE application_id = $1`, id, *p.DisplayName)
		}
		return err
	})
	if err != nil {
		return apps.Application{}, fmt.Errorf("update application: %w", err)
	}
	return s.GetApplication(ctx, id)
}

func (s *Apps) DeleteApplication(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM applications WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete application: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errAppNotFound(id)
	}
	return nil
}

// AddPassword counts and inserts under the application row lock, so two
// concurrent calls cannot both pass the limit.
func (s *Apps) AddPassword(ctx context.Context, applicationID string, c apps.PasswordCredential, max int) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		var n int
		// Locking the application row serialises concurrent addPassword calls.
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM application_passwords WHERE application_id = a.id)
			FROM applications a WHERE a.id = $1 FOR UPDATE`, applicationID).Scan(&n)
		if err != nil {
			return fmt.Errorf("add password: %w", notFound(err, errAppNotFound(applicationID)))
		}
		if n >= max {
			return apperr.Invalid(apps.CodeTooManyCredentials, "the application already has %d client secrets; remove one first", n)
		}
		_, err = tx.Exec(ctx, `INSERT INTO application_passwords (key_id, application_id, display_name, hint, secret_hash, start_at, end_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.KeyID, applicationID, c.DisplayName, c.Hint, c.SecretHash, c.StartDateTime, c.EndDateTime)
		if err != nil {
			return fmt.Errorf("add password: %w", err)
		}
		return nil
	})
}

func (s *Apps) RemovePassword(ctx context.Context, applicationID, keyID string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM application_passwords WHERE application_id = $1 AND key_id = $2`, applicationID, keyID)
	if err != nil {
		return fmt.Errorf("remove password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "application %q has no password credential %q", applicationID, keyID)
	}
	return nil
}

func (s *Apps) PasswordHashes(ctx context.Context, appID string) ([]apps.PasswordCredential, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT p.key_id::text, p.display_name, p.hint, p.start_at, p.end_at, p.secret_hash
		FROM application_passwords p JOIN applications a ON a.id = p.application_id WHERE a.app_id = $1 ORDER BY p.end_at DESC`, appID)
	if err != nil {
		return nil, fmt.Errorf("password hashes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (apps.PasswordCredential, error) {
		var c apps.PasswordCredential
		err := r.Scan(&c.KeyID, &c.DisplayName, &c.Hint, &c.StartDateTime, &c.EndDateTime, &c.SecretHash)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("password hashes: %w", err)
	}
	return out, nil
}

const spCols = `sp.id::text, sp.app_id::text, sp.display_name, sp.account_enabled, sp.app_role_assignment_required,
	sp.app_owner_organization_id::text, sp.tags, sp.created_at,
	coalesce(a.web_redirect_uris || a.spa_redirect_uris || a.public_client_redirect_uris, '{}')`

const spFrom = ` FROM service_principals sp LEFT JOIN applications a ON a.id = sp.application_id `

func scanSP(row pgx.Row) (apps.ServicePrincipal, error) {
	var sp apps.ServicePrincipal
	err := row.Scan(&sp.ID, &sp.AppID, &sp.DisplayName, &sp.AccountEnabled, &sp.AppRoleAssignmentRequired,
		&sp.AppOwnerOrganizationID, &sp.Tags, &sp.CreatedDateTime, &sp.ReplyURLs)
	sp.AppDisplayName, sp.ServicePrincipalType, sp.ServicePrincipalNames = sp.DisplayName, "Application", []string{sp.AppID}
	return sp, err
}

func (s *Apps) CreateServicePrincipal(ctx context.Context, sp apps.ServicePrincipal) (apps.ServicePrincipal, error) {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO service_principals (id, app_id, application_id, display_name, account_enabled,
		app_role_assignment_required, app_owner_organization_id, tags)
		SELECT $1, $2, a.id, a.display_name, $3, $4, NULL, $5 FROM applications a WHERE a.app_id = $2`,
		sp.ID, sp.AppID, sp.AccountEnabled, sp.AppRoleAssignmentRequired, sp.Tags)
	if err != nil {
		if pgCode(err) == pgUniqueViolation {
			return apps.ServicePrincipal{}, apperr.Conflict(apps.CodeDuplicateAppID, "a service principal for appId %s already exists", sp.AppID).WithTarget("appId")
		}
		return apps.ServicePrincipal{}, fmt.Errorf("create service principal: %w", err)
	}
	return s.GetServicePrincipal(ctx, sp.ID)
}

func (s *Apps) GetServicePrincipal(ctx context.Context, id string) (apps.ServicePrincipal, error) {
	sp, err := scanSP(s.db.Pool.QueryRow(ctx, `SELECT `+spCols+spFrom+`WHERE sp.id = $1`, id))
	if err != nil {
		return sp, fmt.Errorf("get service principal: %w", notFound(err, errSPNotFound(id)))
	}
	return sp, nil
}

func (s *Apps) ServicePrincipalByAppID(ctx context.Context, appID string) (apps.ServicePrincipal, error) {
	sp, err := scanSP(s.db.Pool.QueryRow(ctx, `SELECT `+spCols+spFrom+`WHERE sp.app_id = $1`, appID))
	if err != nil {
		return sp, fmt.Errorf("service principal by appId: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "no service principal has appId %q", appID)))
	}
	return sp, nil
}

func (s *Apps) ListServicePrincipals(ctx context.Context, p apps.Page) ([]apps.ServicePrincipal, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+spCols+spFrom+`WHERE sp.id > $1 ORDER BY sp.id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list service principals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (apps.ServicePrincipal, error) { return scanSP(r) })
	if err != nil {
		return nil, fmt.Errorf("list service principals: %w", err)
	}
	return out, nil
}

func (s *Apps) UpdateServicePrincipal(ctx context.Context, id string, p apps.ServicePrincipalPatch) (apps.ServicePrincipal, error) {
	var tags any
	if p.Tags != nil {
		tags = *p.Tags
	}
	tag, err := s.db.Pool.Exec(ctx, `UPDATE service_principals SET account_enabled = coalesce($2, account_enabled),
		app_role_assignment_required = coalesce($3, app_role_assignment_required), tags = coalesce($4, tags) WHERE id = $1`,
		id, p.AccountEnabled, p.AppRoleAssignmentRequired, tags)
	if err != nil {
		return apps.ServicePrincipal{}, fmt.Errorf("update service principal: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apps.ServicePrincipal{}, errSPNotFound(id)
	}
	return s.GetServicePrincipal(ctx, id)
}

func (s *Apps) DeleteServicePrincipal(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM service_principals WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete service principal: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errSPNotFound(id)
	}
	return nil
}
