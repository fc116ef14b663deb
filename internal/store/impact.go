package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// policyResults is the sign-in log with one row per policy each sign-in
// evaluated (p: an appliedConditionalAccessPolicy with its id and result):
// what the impact report and the rollout view both count, so neither
// evaluates Conditional Access again. The record is stored as text
// (migrations/028_signin_log_record_text.sql) and parsed once per row (r;
// OFFSET 0 keeps the planner from flattening it into one parse per use).
const policyResults = `signin_logs s CROSS JOIN LATERAL (SELECT s.record::jsonb AS doc OFFSET 0) r
	CROSS JOIN LATERAL jsonb_array_elements(r.doc -> 'appliedConditionalAccessPolicies') p`

// maxImpactRows bounds the would-be-blocked sign-ins one report reads.
const maxImpactRows = 20000

// PolicyImpact reads the impact report of policy id over [start, end):
// three statements over the window's sign-ins, each an index range on
// created_date_time unnesting appliedConditionalAccessPolicies.
func (s *SignIns) PolicyImpact(ctx context.Context, id string, start, end time.Time) (signinlog.PolicyImpact, error) {
	r := signinlog.PolicyImpact{PolicyID: id, StartDateTime: start, EndDateTime: end, Results: zeroResults(), WouldBeBlocked: []signinlog.ImpactUser{}, Series: []signinlog.ImpactBucket{}}
	const applied = `FROM ` + policyResults + ` WHERE s.created_date_time >= $2 AND s.created_date_time < $3 AND p ->> 'id' = $1`
	rows, err := s.db.Pool.Query(ctx, `SELECT date_trunc('`+signinlog.BucketOf(start, end)+`', s.created_date_time), p ->> 'result', count(*) `+applied+` GROUP BY 1, 2 ORDER BY 1`, id, start, end)
	if err != nil {
		return r, fmt.Errorf("policy impact: %w", err)
	}
	for rows.Next() {
		var at time.Time
		var result string
		var n int
		if err := rows.Scan(&at, &result, &n); err != nil {
			rows.Close()
			return r, fmt.Errorf("policy impact: %w", err)
		}
		if len(r.Series) == 0 || !r.Series[len(r.Series)-1].StartDateTime.Equal(at.UTC()) {
			r.Series = append(r.Series, signinlog.ImpactBucket{StartDateTime: at.UTC(), Results: zeroResults()})
		}
		r.Series[len(r.Series)-1].Results[result] += n
		r.Results[result] += n
		r.SignIns += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("policy impact: %w", err)
	}

	rows, err = s.db.Pool.Query(ctx, `SELECT COALESCE(s.user_id::text, ''), s.user_principal_name, s.created_date_time, r.doc ->> 'appDisplayName',
		p -> 'explanation', r.doc -> 'authenticationMethodsUsed' `+applied+` AND p ->> 'result' IN ($4, $5)
		ORDER BY s.created_date_time DESC LIMIT `+fmt.Sprint(maxImpactRows),
		id, start, end, policy.ResultReportOnlyFailure, policy.ResultReportOnlyInterrupted)
	if err != nil {
		return r, fmt.Errorf("policy impact users: %w", err)
	}
	defer rows.Close()
	byUser := map[string]*signinlog.ImpactUser{}
	var order []string
	for rows.Next() {
		var userID, upn string
		var app *string
		var at time.Time
		var explanation, methods []byte
		if err := rows.Scan(&userID, &upn, &at, &app, &explanation, &methods); err != nil {
			return r, fmt.Errorf("policy impact users: %w", err)
		}
		key := userID + "|" + upn
		u := byUser[key]
		if u == nil { // rows come newest first: the first is the last sign-in
			u = &signinlog.ImpactUser{UserID: userID, UserPrincipalName: upn, LastSignInDateTime: at.UTC(), Apps: []string{}, Reasons: []string{}, MethodsUsedLastTime: []string{}}
			_ = json.Unmarshal(methods, &u.MethodsUsedLastTime)
			byUser[key] = u
			order = append(order, key)
		}
		u.SignIns++
		if app != nil && *app != "" && !slices.Contains(u.Apps, *app) {
			u.Apps = append(u.Apps, *app)
		}
		var e policy.Explanation
		if json.Unmarshal(explanation, &e) == nil {
			if t := e.Text(); t != "" && !slices.Contains(u.Reasons, t) {
				u.Reasons = append(u.Reasons, t)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("policy impact users: %w", err)
	}
	for _, k := range order {
		r.WouldBeBlocked = append(r.WouldBeBlocked, *byUser[k])
	}
	return r, nil
}

func zeroResults() map[string]int {
	m := make(map[string]int, len(signinlog.ImpactResults))
	for _, res := range signinlog.ImpactResults {
		m[res] = 0
	}
	return m
}
