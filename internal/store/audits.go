package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// attributor hands each connection the actor of the request that takes it
// (the audit trigger reads it; see migrations/014_directory_audits.sql).
// Setting it costs one round trip per connection acquired by an admin's or
// a signed-in user's request; a request without an actor pays one only when
// its connection still carries an earlier request's actor (rare: admin
// traffic is small), and nothing otherwise, so the sign-in path is untouched.
type attributor struct {
	mu     sync.Mutex
	tagged map[*pgx.Conn]string // the actor|correlation a connection carries now
}

func newAttributor() *attributor { return &attributor{tagged: map[*pgx.Conn]string{}} }

// prepare is pgxpool's PrepareConn.
func (a *attributor) prepare(ctx context.Context, conn *pgx.Conn) (bool, error) {
	actor, correlation, ok := audit.FromContext(ctx)
	want := ""
	if ok {
		want = actor + "|" + correlation
	}
	a.mu.Lock()
	have := a.tagged[conn]
	a.mu.Unlock()
	if have == want {
		return true, nil
	}
	if _, err := conn.Exec(ctx, `SELECT set_config('rpserver.audit_actor', $1, false), set_config('rpserver.audit_correlation', $2, false)`,
		actor, correlation); err != nil {
		// An unknown state must not leak one request's actor into another's
		// changes: drop the connection.
		return false, nil
	}
	a.mu.Lock()
	if want == "" {
		delete(a.tagged, conn)
	} else {
		a.tagged[conn] = want
	}
	a.mu.Unlock()
	return true, nil
}

func (a *attributor) forget(conn *pgx.Conn) {
	a.mu.Lock()
	delete(a.tagged, conn)
	a.mu.Unlock()
}

// Audits reads the directory audit log.
type Audits struct{ db *DB }

// Audits is the audit log's store.
func (db *DB) Audits() *Audits { return &Audits{db: db} }

const auditCols = `id::text, category, correlation_id, result, activity_display_name, activity_date_time, operation_type, initiated_by, target_resources`

func scanAudit(row pgx.Row) (audit.DirectoryAudit, error) {
	var a audit.DirectoryAudit
	var initiator, targets []byte
	if err := row.Scan(&a.ID, &a.Category, &a.CorrelationID, &a.Result, &a.ActivityDisplayName, &a.ActivityDateTime, &a.OperationType, &initiator, &targets); err != nil {
		return a, err
	}
	if err := json.Unmarshal(initiator, &a.InitiatedBy); err != nil {
		return a, err
	}
	if err := json.Unmarshal(targets, &a.TargetResources); err != nil {
		return a, err
	}
	a.ActivityDateTime = a.ActivityDateTime.UTC()
	a.LoggedByService = audit.LoggedByService
	a.AdditionalDetails = []audit.KeyValue{}
	return a, nil
}

// ListDirectoryAudits returns records newest first, a keyset page at a time.
func (s *Audits) ListDirectoryAudits(ctx context.Context, f audit.Filter, p signinlog.Page) ([]audit.DirectoryAudit, error) {
	var w where
	if !f.From.IsZero() {
		w.add("activity_date_time "+map[bool]string{true: ">", false: ">="}[f.FromExclusive]+" ?", f.From)
	}
	if !f.To.IsZero() {
		w.add("activity_date_time "+map[bool]string{true: "<", false: "<="}[f.ToExclusive]+" ?", f.To)
	}
	if f.Category != "" {
		w.add("category = ?", f.Category)
	}
	if f.Activity != "" {
		if f.ActivityPrefix {
			w.add("starts_with(lower(activity_display_name), lower(?))", f.Activity)
		} else {
			w.add("lower(activity_display_name) = lower(?)", f.Activity)
		}
	}
	if f.CorrelationID != "" {
		w.add("correlation_id = ?", f.CorrelationID)
	}
	if f.Result != "" {
		w.add("result = ?", f.Result)
	}
	if f.LoggedByService != "" && f.LoggedByService != audit.LoggedByService {
		w.add("false")
	}
	if f.InitiatorID != "" {
		w.add("initiated_by_user_id = ?", f.InitiatorID)
	}
	if f.InitiatorUPN != "" {
		w.add("lower(initiated_by_upn) = lower(?)", f.InitiatorUPN)
	}
	if f.TargetID != "" {
		w.add("(target_id = ? OR target_resources @> jsonb_build_array(jsonb_build_object('id', ?::text)))", f.TargetID, f.TargetID)
	}
	if p.After != nil {
		w.add("(activity_date_time, id) < (?, ?::uuid)", p.After.CreatedDateTime, p.After.ID)
	}
	q := `SELECT ` + auditCols + ` FROM directory_audits` + w.sql() + ` ORDER BY activity_date_time DESC, id DESC LIMIT ` + strconv.Itoa(clampTop(p.Top))
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list directory audits: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.DirectoryAudit, error) { return scanAudit(r) })
	if err != nil {
		return nil, fmt.Errorf("list directory audits: %w", err)
	}
	return out, nil
}

// GetDirectoryAudit returns one record.
func (s *Audits) GetDirectoryAudit(ctx context.Context, id string) (audit.DirectoryAudit, error) {
	a, err := scanAudit(s.db.Pool.QueryRow(ctx, `SELECT `+auditCols+` FROM directory_audits WHERE id = $1::uuid`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, apperr.NotFound("directoryAuditNotFound", "no directory audit record %s", id)
	}
	if err != nil {
		return a, fmt.Errorf("get directory audit: %w", err)
	}
	return a, nil
}

// overrideTarget is what a forced lockout override changed, as its audit
// record names it: a policy (category Policy), a user, a group or a role
// holder (UserManagement, GroupManagement, RoleManagement, Entra's
// categories).
type overrideTarget struct {
	Category, Type, ID, DisplayName string
}

// recordOverride writes the audit record of a forced override of lockout
// protection (audit.OverrideFrom(ctx) filled by the check) in the change's
// transaction, with the actor and correlation id the trigger gives the
// change itself, so the two records read together. Nothing without an
// override, or without an actor (a change nobody made as an admin).
func recordOverride(ctx context.Context, tx pgx.Tx, t overrideTarget) error {
	o := audit.OverrideFrom(ctx)
	if o == nil || o.Findings == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `
INSERT INTO directory_audits (category, activity_display_name, operation_type, correlation_id, initiated_by,
                              initiated_by_user_id, initiated_by_upn, target_id, target_resources)
SELECT $5::text, $4::text, 'Update', COALESCE(current_setting('rpserver.audit_correlation', true), ''), a,
       COALESCE(a #>> '{user,id}', ''), COALESCE(a #>> '{user,userPrincipalName}', ''), $1::text,
       jsonb_build_array(jsonb_build_object('id', $1::text, 'type', $6::text, 'displayName', $2::text, 'userPrincipalName', NULL,
           'modifiedProperties', jsonb_build_array(jsonb_build_object('displayName', 'LockoutProtectionFindings',
               'oldValue', NULL, 'newValue', to_jsonb($3::text)::text))))
  FROM (SELECT NULLIF(current_setting('rpserver.audit_actor', true), '')::jsonb AS a) actor
 WHERE a IS NOT NULL`, t.ID, t.DisplayName, o.Findings, audit.ActivityLockoutOverride, t.Category, t.Type)
	if err != nil {
		return fmt.Errorf("record the lockout override: %w", err)
	}
	return nil
}

// querier is what the directory's single-statement writes need of a pool
// or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// overridable runs a directory write on the pool; when the request forced
// a lockout override (audit.OverrideFrom filled by the check), it runs in
// one transaction with the override's audit record instead, so a forced
// change is never made without its record and a failed one leaves none.
func (db *DB) overridable(ctx context.Context, t overrideTarget, write func(q querier) error) error {
	if o := audit.OverrideFrom(ctx); o == nil || o.Findings == "" {
		return write(db.Pool)
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return recordOverride(ctx, tx, t)
	})
}
