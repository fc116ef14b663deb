package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/reports"
)

// Reports reads what the authentication-methods reports are made of.
type Reports struct{ db *DB }

// Reports is the reports' store.
func (db *DB) Reports() *Reports { return &Reports{db: db} }

// maxReportUsers bounds one report: the lab is sized for rehearsals, and a
// report over more users than this is refused rather than cut silently.
const maxReportUsers = 100000

// RegistrationFacts returns every user's registrations in one statement,
// ordered by id.
func (s *Reports) RegistrationFacts(ctx context.Context, now time.Time) ([]reports.Facts, error) {
	rows, err := s.db.Pool.Query(ctx, `
SELECT u.id::text, u.user_principal_name, u.display_name,
       EXISTS (SELECT 1 FROM role_assignments r WHERE r.principal_id = u.id),
       COALESCE((SELECT array_agg(c.aaguid ORDER BY c.created_at) FROM webauthn_credentials c WHERE c.user_id = u.id), '{}'),
       COALESCE((SELECT array_agg(c.backup_eligible ORDER BY c.created_at) FROM webauthn_credentials c WHERE c.user_id = u.id), '{}'),
       EXISTS (SELECT 1 FROM push_methods p WHERE p.user_id = u.id),
       EXISTS (SELECT 1 FROM totp_methods t WHERE t.user_id = u.id),
       EXISTS (SELECT 1 FROM temporary_access_passes t WHERE t.user_id = u.id
                  AND t.start_at <= $1 AND t.start_at + t.lifetime_minutes * interval '1 minute' > $1
                  AND NOT (t.is_usable_once AND t.last_used_at IS NOT NULL)),
       EXISTS (SELECT 1 FROM password_credentials p WHERE p.user_id = u.id),
       GREATEST(u.created_at,
                (SELECT max(created_at) FROM webauthn_credentials c WHERE c.user_id = u.id),
                (SELECT max(created_at) FROM push_methods p WHERE p.user_id = u.id),
                (SELECT max(created_at) FROM totp_methods t WHERE t.user_id = u.id),
                (SELECT max(created_at) FROM temporary_access_passes t WHERE t.user_id = u.id),
                (SELECT changed_at FROM password_credentials p WHERE p.user_id = u.id))
  FROM users u ORDER BY u.id LIMIT `+fmt.Sprint(maxReportUsers+1), now)
	if err != nil {
		return nil, fmt.Errorf("registration report: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (reports.Facts, error) {
		var f reports.Facts
		var aaguids []uuid.UUID
		var backup []bool
		err := r.Scan(&f.UserID, &f.UserPrincipalName, &f.DisplayName, &f.IsAdmin, &aaguids, &backup, &f.Push, &f.TOTP, &f.ActiveTAP, &f.Password, &f.LastUpdated)
		for i := range aaguids {
			f.Passkeys = append(f.Passkeys, reports.Passkey{AAGUID: aaguids[i], BackupEligible: i < len(backup) && backup[i]})
		}
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("registration report: %w", err)
	}
	if len(out) > maxReportUsers {
		return nil, apperr.TooLarge("reportTooLarge", "the tenant has more than %d users: the lab's reports are sized for rehearsal tenants", maxReportUsers)
	}
	return out, nil
}
