package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
)

// Directory implements directory.Store.
type Directory struct{ db *DB }

// Directory returns the directory store.
func (db *DB) Directory() *Directory { return &Directory{db: db} }

var _ directory.Store = (*Directory)(nil)

const userCols = `id::text, user_principal_name, display_name, account_enabled, is_emergency_access, created_at`

func scanUser(row pgx.Row) (directory.User, error) {
	var u directory.User
	err := row.Scan(&u.ID, &u.UserPrincipalName, &u.DisplayName, &u.AccountEnabled, &u.IsEmergencyAccess, &u.CreatedDateTime)
	return u, err
}

func errUserNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "user %q does not exist", id)
}

func errGroupNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "group %q does not exist", id)
}

func dupUPN(err error, upn string) error {
	if pgCode(err) == pgUniqueViolation {
		return apperr.Conflict(directory.CodeDuplicateUPN, "another user already has userPrincipalName %q", upn).WithTarget("userPrincipalName")
	}
	return err
}

// CreateUser inserts the user and, when passwordHash is not empty, its
// password in the same statement: a user is never left without the
// password it was created with.
func (s *Directory) CreateUser(ctx context.Context, u directory.User, passwordHash string) (directory.User, error) {
	row := s.db.Pool.QueryRow(ctx, `WITH u AS (
			INSERT INTO users (id, user_principal_name, display_name, account_enabled, is_emergency_access)
			VALUES ($1, $2, $3, $4, $5) RETURNING *
		), p AS (
			INSERT INTO password_credentials (user_id, hash) SELECT id, $6 FROM u WHERE $6 <> ''
		)
		SELECT `+userCols+` FROM u`,
		u.ID, u.UserPrincipalName, u.DisplayName, u.AccountEnabled, u.IsEmergencyAccess, passwordHash)
	out, err := scanUser(row)
	if err != nil {
		return directory.User{}, fmt.Errorf("create user: %w", dupUPN(err, u.UserPrincipalName))
	}
	return out, nil
}

func (s *Directory) GetUser(ctx context.Context, id string) (directory.User, error) {
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return u, fmt.Errorf("get user: %w", notFound(err, errUserNotFound(id)))
	}
	return u, nil
}

func (s *Directory) GetUserByUPN(ctx context.Context, upn string) (directory.User, error) {
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(user_principal_name) = lower($1)`, upn))
	if err != nil {
		return u, fmt.Errorf("get user by UPN: %w", notFound(err, errUserNotFound(upn)))
	}
	return u, nil
}

func (s *Directory) ListUsers(ctx context.Context, p directory.Page) ([]directory.User, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return collectUsers(rows)
}

func collectUsers(rows pgx.Rows) ([]directory.User, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("scan users: %w", err)
	}
	return out, nil
}

// UpdateUser changes the properties set in p and, when passwordHash is not
// nil, replaces the password, in one statement.
func (s *Directory) UpdateUser(ctx context.Context, id string, p directory.UserPatch, passwordHash *string) (directory.User, error) {
	row := s.db.Pool.QueryRow(ctx, `WITH u AS (
			UPDATE users SET
			user_principal_name = COALESCE($2, user_principal_name),
			display_name        = COALESCE($3, display_name),
			account_enabled     = COALESCE($4, account_enabled),
			is_emergency_access = COALESCE($5, is_emergency_access)
			WHERE id = $1 RETURNING *
		), p AS (
			INSERT INTO password_credentials (user_id, hash) SELECT id, $6::text FROM u WHERE $6::text IS NOT NULL
			ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, changed_at = now()
		)
		SELECT `+userCols+` FROM u`,
		id, p.UserPrincipalName, p.DisplayName, p.AccountEnabled, p.IsEmergencyAccess, passwordHash)
	u, err := scanUser(row)
	if err != nil {
		upn := ""
		if p.UserPrincipalName != nil {
			upn = *p.UserPrincipalName
		}
		return u, fmt.Errorf("update user: %w", notFound(dupUPN(err, upn), errUserNotFound(id)))
	}
	return u, nil
}

func (s *Directory) DeleteUser(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errUserNotFound(id)
	}
	return nil
}

const groupCols = `id::text, display_name, description, mail_nickname, security_enabled, created_at`

func scanGroup(row pgx.Row) (directory.Group, error) {
	var g directory.Group
	err := row.Scan(&g.ID, &g.DisplayName, &g.Description, &g.MailNickname, &g.SecurityEnabled, &g.CreatedDateTime)
	g.GroupTypes = []string{}
	return g, err
}

func (s *Directory) CreateGroup(ctx context.Context, g directory.Group) (directory.Group, error) {
	out, err := scanGroup(s.db.Pool.QueryRow(ctx, `INSERT INTO groups (id, display_name, description, mail_nickname, security_enabled)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+groupCols, g.ID, g.DisplayName, g.Description, g.MailNickname, g.SecurityEnabled))
	if err != nil {
		return out, fmt.Errorf("create group: %w", err)
	}
	return out, nil
}

func (s *Directory) GetGroup(ctx context.Context, id string) (directory.Group, error) {
	g, err := scanGroup(s.db.Pool.QueryRow(ctx, `SELECT `+groupCols+` FROM groups WHERE id = $1`, id))
	if err != nil {
		return g, fmt.Errorf("get group: %w", notFound(err, errGroupNotFound(id)))
	}
	return g, nil
}

func (s *Directory) ListGroups(ctx context.Context, p directory.Page) ([]directory.Group, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+groupCols+` FROM groups WHERE id > $1 ORDER BY id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, fmt.Errorf("scan groups: %w", err)
	}
	return out, nil
}

func (s *Directory) UpdateGroup(ctx context.Context, id string, p directory.GroupPatch) (directory.Group, error) {
	g, err := scanGroup(s.db.Pool.QueryRow(ctx, `UPDATE groups SET
		display_name  = COALESCE($2, display_name),
		description   = COALESCE($3, description),
		mail_nickname = COALESCE($4, mail_nickname)
		WHERE id = $1 RETURNING `+groupCols, id, p.DisplayName, p.Description, p.MailNickname))
	if err != nil {
		return g, fmt.Errorf("update group: %w", notFound(err, errGroupNotFound(id)))
	}
	return g, nil
}

func (s *Directory) DeleteGroup(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errGroupNotFound(id)
	}
	return nil
}

func (s *Directory) AddMember(ctx context.Context, groupID, userID string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, groupID, userID)
	switch pgCode(err) {
	case "":
		return nil
	case pgUniqueViolation:
		return apperr.Conflict(directory.CodeAlreadyMember, "user %q is already a member of group %q", userID, groupID)
	case pgForeignKeyViolation:
		if constraintOf(err) == "group_members_group_id_fkey" {
			return errGroupNotFound(groupID)
		}
		return errUserNotFound(userID)
	}
	return fmt.Errorf("add member: %w", err)
}

func (s *Directory) RemoveMember(ctx context.Context, groupID, userID string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "user %q is not a member of group %q", userID, groupID)
	}
	return nil
}

func (s *Directory) ListMembers(ctx context.Context, groupID string, p directory.Page) ([]directory.User, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT u.id::text, u.user_principal_name, u.display_name, u.account_enabled, u.is_emergency_access, u.created_at FROM users u JOIN group_members m ON m.user_id = u.id
		WHERE m.group_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3`, groupID, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return collectUsers(rows)
}

func (s *Directory) GroupIDsOf(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT group_id::text FROM group_members WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("groups of user: %w", err)
	}
	return ids, nil
}

const assignmentCols = `id::text, principal_id::text, role_definition_id::text, directory_scope_id`

func scanAssignment(row pgx.Row) (directory.RoleAssignment, error) {
	var a directory.RoleAssignment
	err := row.Scan(&a.ID, &a.PrincipalID, &a.RoleDefinitionID, &a.DirectoryScopeID)
	return a, err
}

func (s *Directory) CreateRoleAssignment(ctx context.Context, a directory.RoleAssignment) (directory.RoleAssignment, error) {
	out, err := scanAssignment(s.db.Pool.QueryRow(ctx, `INSERT INTO role_assignments (id, principal_id, role_definition_id, directory_scope_id)
		VALUES ($1, $2, $3, $4) RETURNING `+assignmentCols, a.ID, a.PrincipalID, a.RoleDefinitionID, a.DirectoryScopeID))
	switch pgCode(err) {
	case "":
		return out, nil
	case pgUniqueViolation:
		return out, apperr.Conflict(directory.CodeDuplicateAssignment, "principal %q already holds role %q at scope %q", a.PrincipalID, a.RoleDefinitionID, a.DirectoryScopeID)
	case pgForeignKeyViolation:
		return out, errUserNotFound(a.PrincipalID).WithTarget("principalId")
	}
	return out, fmt.Errorf("create role assignment: %w", err)
}

func (s *Directory) GetRoleAssignment(ctx context.Context, id string) (directory.RoleAssignment, error) {
	a, err := scanAssignment(s.db.Pool.QueryRow(ctx, `SELECT `+assignmentCols+` FROM role_assignments WHERE id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("get role assignment: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "role assignment %q does not exist", id)))
	}
	return a, nil
}

func (s *Directory) ListRoleAssignments(ctx context.Context, principalID string, p directory.Page) ([]directory.RoleAssignment, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+assignmentCols+` FROM role_assignments
		WHERE ($1 = '' OR principal_id::text = $1) AND id > $2 ORDER BY id LIMIT $3`, principalID, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.RoleAssignment, error) { return scanAssignment(r) })
	if err != nil {
		return nil, fmt.Errorf("scan role assignments: %w", err)
	}
	return out, nil
}

func (s *Directory) DeleteRoleAssignment(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM role_assignments WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete role assignment: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "role assignment %q does not exist", id)
	}
	return nil
}
