package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/rollout"
)

// maxRolloutMembers bounds one rollout view: a wave larger than this is
// refused rather than cut silently (the lab is sized for rehearsals).
const maxRolloutMembers = 10000

// RolloutFacts reads group groupID's members with their passkeys, and
// their sign-ins in [start, end) as the policies policyIDs judged them:
// three statements, the sign-in ones range scans of the log's per-user
// index for each member.
func (s *Reports) RolloutFacts(ctx context.Context, groupID string, policyIDs []string, start, end time.Time) (rollout.Facts, error) {
	var f rollout.Facts
	rows, err := s.db.Pool.Query(ctx, `
SELECT u.id::text, u.user_principal_name, u.display_name,
       COALESCE(array_agg(c.aaguid ORDER BY c.created_at) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(c.backup_eligible ORDER BY c.created_at) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(c.backup_state ORDER BY c.created_at) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(c.attested ORDER BY c.created_at) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(c.trusted ORDER BY c.created_at) FILTER (WHERE c.id IS NOT NULL), '{}')
  FROM group_members m JOIN users u ON u.id = m.user_id
  LEFT JOIN webauthn_credentials c ON c.user_id = u.id
 WHERE m.group_id = $1
 GROUP BY u.id ORDER BY lower(u.user_principal_name) LIMIT `+fmt.Sprint(maxRolloutMembers+1), groupID)
	if err != nil {
		return f, fmt.Errorf("rollout members: %w", err)
	}
	f.Members, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (rollout.Member, error) {
		var m rollout.Member
		var aaguids []uuid.UUID
		var be, bs, attested, trusted []bool
		if err := r.Scan(&m.UserID, &m.UserPrincipalName, &m.DisplayName, &aaguids, &be, &bs, &attested, &trusted); err != nil {
			return m, err
		}
		for i := range aaguids {
			m.Passkeys = append(m.Passkeys, profiles.Credential{AAGUID: aaguids[i], BackupEligible: be[i], BackupState: bs[i],
				Attestation: profiles.AttestationVerdict{Attested: attested[i], Trusted: trusted[i]}})
		}
		return m, nil
	})
	if err != nil {
		return f, fmt.Errorf("rollout members: %w", err)
	}
	if len(f.Members) > maxRolloutMembers {
		return f, apperr.TooLarge("reportTooLarge", "the group has more than %d members: the rollout view is sized for rehearsal waves", maxRolloutMembers)
	}
	if len(policyIDs) == 0 {
		return f, nil
	}

	const members = ` FROM ` + policyResults + ` WHERE s.created_date_time >= $2 AND s.created_date_time < $3 AND p ->> 'id' = ANY($1)
		AND s.user_id IN (SELECT user_id FROM group_members WHERE group_id = $4)`
	rows, err = s.db.Pool.Query(ctx, `SELECT p ->> 'id', p ->> 'result', count(*)`+members+` GROUP BY 1, 2`, policyIDs, start, end, groupID)
	if err != nil {
		return f, fmt.Errorf("rollout policy results: %w", err)
	}
	f.Results, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (rollout.PolicyResult, error) {
		var pr rollout.PolicyResult
		return pr, r.Scan(&pr.PolicyID, &pr.Result, &pr.Count)
	})
	if err != nil {
		return f, fmt.Errorf("rollout policy results: %w", err)
	}
	rows, err = s.db.Pool.Query(ctx, `SELECT s.user_id::text, count(DISTINCT s.id), count(DISTINCT s.id) FILTER (WHERE p ->> 'result' = ANY($5))`+
		members+` GROUP BY 1`, policyIDs, start, end, groupID, rollout.FailingResults)
	if err != nil {
		return f, fmt.Errorf("rollout sign-ins: %w", err)
	}
	f.Users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (rollout.UserSignIns, error) {
		var u rollout.UserSignIns
		return u, r.Scan(&u.UserID, &u.SignIns, &u.WouldFail)
	})
	if err != nil {
		return f, fmt.Errorf("rollout sign-ins: %w", err)
	}
	return f, nil
}
