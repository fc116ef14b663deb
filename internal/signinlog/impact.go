package signinlog

import (
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
)

// PolicyImpact is the Conditional Access impact report of one policy over
// a window of sign-ins: what Entra's "Conditional Access insights and
// reporting" workbook shows an admin before switching a report-only policy
// on. Entra builds it in Log Analytics, not Graph, so this is a lab
// extension; it reads only the sign-in log's appliedConditionalAccessPolicies.
type PolicyImpact struct {
	PolicyID      string    `json:"policyId"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	// SignIns counts the sign-ins in the window that evaluated the policy.
	SignIns int `json:"signIns"`
	// Results counts them by the policy's result, every result present
	// (zero included) so a chart has a fixed legend.
	Results map[string]int `json:"results"`
	// WouldBeBlocked lists the users whose sign-ins the report-only policy
	// would have refused (reportOnlyFailure, reportOnlyInterrupted), with
	// why: the users who lose access the moment the policy goes on.
	WouldBeBlocked []ImpactUser `json:"wouldBeBlocked"`
	// Series buckets the results by hour (windows up to two days) or day.
	Series []ImpactBucket `json:"series"`
}

// ImpactUser is one user the policy would block.
type ImpactUser struct {
	UserID              string    `json:"userId"`
	UserPrincipalName   string    `json:"userPrincipalName"`
	SignIns             int       `json:"signIns"`
	LastSignInDateTime  time.Time `json:"lastSignInDateTime"`
	Apps                []string  `json:"apps"`
	Reasons             []string  `json:"reasons"`
	MethodsUsedLastTime []string  `json:"authenticationMethodsUsed"`
}

// ImpactBucket is one interval of the series.
type ImpactBucket struct {
	StartDateTime time.Time      `json:"startDateTime"`
	Results       map[string]int `json:"results"`
}

// ImpactResults are the results the report counts, in display order.
var ImpactResults = []string{
	policy.ResultSuccess, policy.ResultFailure, policy.ResultNotApplied,
	policy.ResultReportOnlySuccess, policy.ResultReportOnlyFailure, policy.ResultReportOnlyInterrupted, policy.ResultReportOnlyNotApplied,
}

// ImpactWindow checks a report window: start before end, at most 90 days
// (a longer one scans more log than a rehearsal needs; retention is 30
// days by default anyway). Zero values mean the last 7 days to now.
func ImpactWindow(start, end, now time.Time) (time.Time, time.Time, error) {
	if end.IsZero() {
		end = now
	}
	if start.IsZero() {
		start = end.Add(-7 * 24 * time.Hour)
	}
	if !start.Before(end) {
		return start, end, apperr.Invalid("invalidReportWindow", "startDateTime must be before endDateTime").WithTarget("startDateTime")
	}
	if end.Sub(start) > 90*24*time.Hour {
		return start, end, apperr.Invalid("invalidReportWindow", "the window may span at most 90 days").WithTarget("endDateTime")
	}
	return start.UTC(), end.UTC(), nil
}

// BucketOf is the series interval for a window.
func BucketOf(start, end time.Time) string {
	if end.Sub(start) <= 48*time.Hour {
		return "hour"
	}
	return "day"
}
