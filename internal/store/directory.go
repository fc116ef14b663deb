package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
)

// Directory implements directory.Store.
type Directory struct{ db *DB }

// Directory returns the directory store.
func (db *DB) Directory() *Directory { return &Directory{db: db} }

var _ directory.Store = (*Directory)(nil)

const userCols = `id::text, user_principal_name, display_name, account_enabled, is_emergency_access, created_at, profile`

// userColsOf qualifies userCols with a table alias.
func userColsOf(alias string) string {
	return strings.ReplaceAll(strings.ReplaceAll(userCols, "id::text", alias+".id::text"), ", ", ", "+alias+".")
}

func scanUser(row pgx.Row) (directory.User, error) {
	var u directory.User
	var profile []byte
	err := row.Scan(&u.ID, &u.UserPrincipalName, &u.DisplayName, &u.AccountEnabled, &u.IsEmergencyAccess, &u.CreatedDateTime, &profile)
	if err == nil {
		err = json.Unmarshal(profile, &u.UserProfile)
	}
	if u.BusinessPhones == nil {
		u.BusinessPhones = []string{}
	}
	return u, err
}

// profileJSON is the stored form of a user's profile properties.
func profileJSON(p directory.UserProfile) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode user profile: %w", err)
	}
	return b, nil
}

// userColumns maps the user properties odata.Parse lets clients filter,
// search and sort on to SQL.
var userColumns = func() map[string]column {
	m := map[string]column{
		"id":                {sql: "u.id"},
		"userPrincipalName": {sql: "u.user_principal_name", fold: true},
		"displayName":       {sql: "u.display_name", fold: true},
		"accountEnabled":    {sql: "u.account_enabled"},
		"createdDateTime":   {sql: "u.created_at"},
		"businessPhones":    {sql: "ARRAY(SELECT jsonb_array_elements_text(u.profile->'businessPhones'))", array: true},
	}
	for _, p := range directory.ProfileStringProperties {
		m[p] = column{sql: "(u.profile->>'" + p + "')", fold: true}
	}
	return m
}()

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
	profile, err := profileJSON(u.UserProfile)
	if err != nil {
		return directory.User{}, err
	}
	var out directory.User
	err = s.db.overridable(ctx, overrideTarget{"UserManagement", "User", u.ID, u.UserPrincipalName}, func(q querier) (err error) {
		out, err = scanUser(q.QueryRow(ctx, `WITH u AS (
			INSERT INTO users (id, user_principal_name, display_name, account_enabled, is_emergency_access, profile)
			VALUES ($1, $2, $3, $4, $5, $7) RETURNING *
		), p AS (
			INSERT INTO password_credentials (user_id, hash) SELECT id, $6 FROM u WHERE $6 <> ''
		)
		SELECT `+userCols+` FROM u`,
			u.ID, u.UserPrincipalName, u.DisplayName, u.AccountEnabled, u.IsEmergencyAccess, passwordHash, profile))
		return err
	})
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

func (s *Directory) ListUsers(ctx context.Context, q directory.Query) ([]directory.User, int, error) {
	return s.listUsers(ctx, "users u", q, nil, "list users")
}

// listUsers runs a user listing over from (users u, possibly joined) with
// the query's filter, search, order and page, plus a count when asked.
func (s *Directory) listUsers(ctx context.Context, from string, q directory.Query, w *where, what string) ([]directory.User, int, error) {
	if w == nil {
		w = &where{}
	}
	if err := applyQuery(w, q, userColumns); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	count := -1
	if q.Count {
		if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+from+w.sql(), w.args...).Scan(&count); err != nil {
			return nil, 0, fmt.Errorf("%s: count: %w", what, err)
		}
	}
	order, err := pageClause(w, q, userColumns, "u.id")
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+userColsOf("u")+` FROM `+from+w.sql()+order, w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	out, err := collectUsers(rows)
	return out, count, err
}

// applyQuery adds a query's filter and search to w.
func applyQuery(w *where, q directory.Query, cols map[string]column) error {
	if q.Filter != nil {
		cond, err := compileFilter(q.Filter, cols, w)
		if err != nil {
			return err
		}
		w.conds = append(w.conds, cond)
	}
	for _, term := range q.Search {
		c, ok := cols[term.Prop]
		if !ok {
			return fmt.Errorf("no column for search property %s", term.Prop)
		}
		w.conds = append(w.conds, searchCondition(c.sql, term.Term, w))
	}
	return nil
}

// pageClause is ORDER BY ... LIMIT: keyset on id by default, or the
// requested order with id as tie-break and an offset.
func pageClause(w *where, q directory.Query, cols map[string]column, idCol string) (string, error) {
	limit := " LIMIT " + strconv.Itoa(clampTop(q.Top))
	if len(q.OrderBy) == 0 {
		w.add(idCol+" > ?::uuid", afterID(q.After))
		return " ORDER BY " + idCol + limit, nil
	}
	ob := q.OrderBy[0]
	c, ok := cols[ob.Prop]
	if !ok {
		return "", fmt.Errorf("no column for order property %s", ob.Prop)
	}
	dir := " ASC"
	if ob.Desc {
		dir = " DESC"
	}
	return " ORDER BY " + lhs(c) + dir + " NULLS LAST, " + idCol + limit + " OFFSET " + strconv.Itoa(max(q.Offset, 0)), nil
}

func collectUsers(rows pgx.Rows) ([]directory.User, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("scan users: %w", err)
	}
	return out, nil
}

// UpdateUser changes the properties set in p and, when passwordHash is not
// nil, replaces the password, in one statement. Profile properties merge
// (jsonb ||): those the patch names are replaced, the rest kept.
func (s *Directory) UpdateUser(ctx context.Context, id string, p directory.UserPatch, passwordHash *string) (directory.User, error) {
	profile := []byte("{}")
	if len(p.Profile) > 0 {
		var err error
		if profile, err = json.Marshal(p.Profile); err != nil {
			return directory.User{}, fmt.Errorf("update user: encode profile: %w", err)
		}
	}
	var u directory.User
	if p.UserPrincipalName != nil {
		defer s.db.allow.flush() // after the commit: a renamed user's begins (allowcache.go)
	}
	err := s.db.overridable(ctx, overrideTarget{"UserManagement", "User", id, ""}, func(q querier) (err error) {
		u, err = scanUser(q.QueryRow(ctx, `WITH u AS (
			UPDATE users SET
			user_principal_name = COALESCE($2, user_principal_name),
			display_name        = COALESCE($3, display_name),
			account_enabled     = COALESCE($4, account_enabled),
			is_emergency_access = COALESCE($5, is_emergency_access),
			profile             = profile || $7::jsonb
			WHERE id = $1 RETURNING *
		), p AS (
			INSERT INTO password_credentials (user_id, hash) SELECT id, $6::text FROM u WHERE $6::text IS NOT NULL
			ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, changed_at = now()
		)
		SELECT `+userCols+` FROM u`,
			id, p.UserPrincipalName, p.DisplayName, p.AccountEnabled, p.IsEmergencyAccess, passwordHash, profile))
		return err
	})
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
	var tag pgconn.CommandTag
	defer s.db.allow.flush() // after the commit: the user's passkeys went with it
	err := s.db.overridable(ctx, overrideTarget{"UserManagement", "User", id, ""}, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errUserNotFound(id)
	}
	return nil
}

const groupCols = `id::text, display_name, description, mail_nickname, security_enabled, is_assignable_to_role, created_at`

func scanGroup(row pgx.Row) (directory.Group, error) {
	var g directory.Group
	err := row.Scan(&g.ID, &g.DisplayName, &g.Description, &g.MailNickname, &g.SecurityEnabled, &g.IsAssignableToRole, &g.CreatedDateTime)
	g.GroupTypes = []string{}
	return g, err
}

var groupColumns = map[string]column{
	"id":                 {sql: "id"},
	"displayName":        {sql: "display_name", fold: true},
	"description":        {sql: "description", fold: true},
	"mailNickname":       {sql: "mail_nickname", fold: true},
	"securityEnabled":    {sql: "security_enabled"},
	"mailEnabled":        {sql: "false"},
	"isAssignableToRole": {sql: "is_assignable_to_role"},
	"createdDateTime":    {sql: "created_at"},
}

func (s *Directory) CreateGroup(ctx context.Context, g directory.Group) (directory.Group, error) {
	return s.CreateGroupWith(ctx, g, nil, nil)
}

func (s *Directory) CreateGroupWith(ctx context.Context, g directory.Group, members, owners []string) (directory.Group, error) {
	var out directory.Group
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanGroup(tx.QueryRow(ctx, `INSERT INTO groups (id, display_name, description, mail_nickname, security_enabled, is_assignable_to_role)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+groupCols, g.ID, g.DisplayName, g.Description, g.MailNickname, g.SecurityEnabled, g.IsAssignableToRole))
		if err != nil {
			return err
		}
		for table, ids := range map[string][]string{"group_members": members, "group_owners": owners} {
			// In id order: each member's sign-in facts version is locked to
			// the commit (migration 029), and writers that lock users in
			// one order cannot deadlock on them.
			for _, uid := range slices.Sorted(slices.Values(ids)) {
				if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, g.ID, uid); err != nil {
					if pgCode(err) == pgForeignKeyViolation {
						return errUserNotFound(uid).WithTarget(strings.TrimPrefix(table, "group_") + "@odata.bind")
					}
					return err
				}
			}
		}
		return nil
	})
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

func (s *Directory) ListGroups(ctx context.Context, q directory.Query) ([]directory.Group, int, error) {
	var w where
	if err := applyQuery(&w, q, groupColumns); err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	count := -1
	if q.Count {
		if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM groups`+w.sql(), w.args...).Scan(&count); err != nil {
			return nil, 0, fmt.Errorf("list groups: count: %w", err)
		}
	}
	order, err := pageClause(&w, q, groupColumns, "id")
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+groupCols+` FROM groups`+w.sql()+order, w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("scan groups: %w", err)
	}
	return out, count, nil
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
	var tag pgconn.CommandTag
	err := s.db.overridable(ctx, overrideTarget{"GroupManagement", "Group", id, ""}, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errGroupNotFound(id)
	}
	return nil
}

func (s *Directory) AddMember(ctx context.Context, groupID, userID string) error {
	err := s.db.overridable(ctx, overrideTarget{"GroupManagement", "Group", groupID, ""}, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, groupID, userID)
		return err
	})
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
	var tag pgconn.CommandTag
	err := s.db.overridable(ctx, overrideTarget{"GroupManagement", "Group", groupID, ""}, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "user %q is not a member of group %q", userID, groupID)
	}
	return nil
}

func (s *Directory) ListMembers(ctx context.Context, groupID string, q directory.Query) ([]directory.User, int, error) {
	return s.listLinked(ctx, "group_members", groupID, q)
}

func (s *Directory) ListOwners(ctx context.Context, groupID string, q directory.Query) ([]directory.User, int, error) {
	return s.listLinked(ctx, "group_owners", groupID, q)
}

func (s *Directory) listLinked(ctx context.Context, table, groupID string, q directory.Query) ([]directory.User, int, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, 0, err
	}
	var w where
	w.add("m.group_id = ?::uuid", groupID)
	return s.listUsers(ctx, "users u JOIN "+table+" m ON m.user_id = u.id", q, &w, "list "+strings.TrimPrefix(table, "group_"))
}

func (s *Directory) AddOwner(ctx context.Context, groupID, userID string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO group_owners (group_id, user_id) VALUES ($1, $2)`, groupID, userID)
	switch pgCode(err) {
	case "":
		return nil
	case pgUniqueViolation:
		return apperr.Conflict(directory.CodeAlreadyMember, "user %q is already an owner of group %q", userID, groupID)
	case pgForeignKeyViolation:
		if constraintOf(err) == "group_owners_group_id_fkey" {
			return errGroupNotFound(groupID)
		}
		return errUserNotFound(userID)
	}
	return fmt.Errorf("add owner: %w", err)
}

func (s *Directory) RemoveOwner(ctx context.Context, groupID, userID string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM group_owners WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	if err != nil {
		return fmt.Errorf("remove owner: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "user %q is not an owner of group %q", userID, groupID)
	}
	return nil
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
	var out directory.RoleAssignment
	err := s.db.overridable(ctx, overrideTarget{"RoleManagement", "User", a.PrincipalID, ""}, func(q querier) (err error) {
		out, err = scanAssignment(q.QueryRow(ctx, `INSERT INTO role_assignments (id, principal_id, role_definition_id, directory_scope_id)
		VALUES ($1, $2, $3, $4) RETURNING `+assignmentCols, a.ID, a.PrincipalID, a.RoleDefinitionID, a.DirectoryScopeID))
		return err
	})
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

var assignmentColumns = map[string]column{
	"id":               {sql: "id"},
	"principalId":      {sql: "principal_id"},
	"roleDefinitionId": {sql: "role_definition_id"},
	"directoryScopeId": {sql: "directory_scope_id"},
}

func (s *Directory) ListRoleAssignments(ctx context.Context, q directory.Query) ([]directory.RoleAssignment, error) {
	var w where
	if err := applyQuery(&w, q, assignmentColumns); err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	order, err := pageClause(&w, q, assignmentColumns, "id")
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+assignmentCols+` FROM role_assignments`+w.sql()+order, w.args...)
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
	var tag pgconn.CommandTag
	err := s.db.overridable(ctx, overrideTarget{"RoleManagement", "Role", id, ""}, func(q querier) (err error) {
		tag, err = q.Exec(ctx, `DELETE FROM role_assignments WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete role assignment: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "role assignment %q does not exist", id)
	}
	return nil
}
