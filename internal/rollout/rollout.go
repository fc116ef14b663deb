// Package rollout answers the question an administrator asks before moving
// a passkey rollout to its next wave: for one group, how many members are
// there, how many of them hold a passkey the group's passkey profile
// accepts, and how many of their sign-ins in a window failed, or would
// fail, under the wave's Conditional Access policies (those whose users
// condition includes the group). It judges nothing itself: passkeys are
// judged by internal/profiles and sign-ins by the Conditional Access
// evaluation the sign-in log already recorded (the impact report's source),
// so the numbers agree with what registration and sign-in do.
package rollout

import (
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// Report is GET /groups/{id}/passkeyRollout (a lab extension).
type Report struct {
	GroupID       string    `json:"groupId"`
	DisplayName   string    `json:"displayName"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	// Members counts the group's members; MembersWithAllowedPasskey those
	// holding at least one passkey a profile in PasskeyProfiles accepts.
	Members                   int `json:"members"`
	MembersWithAllowedPasskey int `json:"membersWithAllowedPasskey"`
	// PasskeyProfiles are the profiles the passkey method applies to the
	// group's members through this group; empty with PasskeyNotApplicable
	// saying why (methodDisabled, methodNotEnabledForUser).
	PasskeyProfiles      []ProfileRef `json:"passkeyProfiles"`
	PasskeyNotApplicable string       `json:"passkeyNotApplicableReason,omitempty"`
	// PasskeyPolicyConfigured is false while the FIDO2 configuration was
	// never written: registration then runs the lab's open gate, which
	// accepts any passkey, so every passkey counts as allowed.
	PasskeyPolicyConfigured bool `json:"passkeyPolicyConfigured"`
	// Policies are the wave's Conditional Access policies with their
	// results over the members' sign-ins in the window.
	Policies []WavePolicy `json:"policies"`
	// SignIns counts the members' sign-ins in the window that evaluated a
	// wave policy; SignInsThatWouldFail those any wave policy failed or,
	// report-only, would have failed (one sign-in counts once).
	SignIns              int `json:"signIns"`
	SignInsThatWouldFail int `json:"signInsThatWouldFail"`
	// ReadyToEnforce: every member holds an allowed passkey and no sign-in
	// in the window would fail.
	ReadyToEnforce bool           `json:"readyToEnforce"`
	MemberStatus   []MemberStatus `json:"memberStatus"`
}

// ProfileRef names a passkey profile.
type ProfileRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WavePolicy is one wave policy with its result counts.
type WavePolicy struct {
	ID          string         `json:"id"`
	DisplayName string         `json:"displayName"`
	State       string         `json:"state"`
	Results     map[string]int `json:"results"`
}

// MemberStatus is one member's line of the view.
type MemberStatus struct {
	UserID               string `json:"userId"`
	UserPrincipalName    string `json:"userPrincipalName"`
	DisplayName          string `json:"displayName"`
	Passkeys             int    `json:"passkeys"`
	AllowedPasskeys      int    `json:"allowedPasskeys"`
	SignIns              int    `json:"signIns"`
	SignInsThatWouldFail int    `json:"signInsThatWouldFail"`
}

// Member is what the store knows of one member.
type Member struct {
	UserID, UserPrincipalName, DisplayName string
	Passkeys                               []profiles.Credential
}

// PolicyResult is how many of the members' sign-ins one policy gave one
// result.
type PolicyResult struct {
	PolicyID, Result string
	Count            int
}

// UserSignIns is one member's sign-ins in the window that evaluated a wave
// policy, and how many of them a wave policy failed or would fail.
type UserSignIns struct {
	UserID             string
	SignIns, WouldFail int
}

// Facts are the store's answer for one group and window.
type Facts struct {
	Members []Member
	Results []PolicyResult
	Users   []UserSignIns
}

// FailingResults are the per-policy results that count as a failed sign-in:
// an enforced failure, and the report-only results the impact report lists
// as would-be blocked.
var FailingResults = []string{policy.ResultFailure, policy.ResultReportOnlyFailure, policy.ResultReportOnlyInterrupted}

// WavePolicies are the policies whose users condition includes the group.
func WavePolicies(all []policy.ConditionalAccessPolicy, groupID string) []policy.ConditionalAccessPolicy {
	var out []policy.ConditionalAccessPolicy
	for _, p := range all {
		for _, g := range p.Conditions.Users.IncludeGroups {
			if strings.EqualFold(g, groupID) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Build assembles the report from the group's passkey configuration
// (configured false: never written, the open gate), its wave policies and
// the store's facts.
func Build(r Report, cfg profiles.Fido2AuthenticationMethodConfiguration, configured bool, wave []policy.ConditionalAccessPolicy, f Facts) Report {
	r.PasskeyProfiles = []ProfileRef{}
	r.PasskeyPolicyConfigured = configured
	var profs []profiles.PasskeyProfile
	if configured {
		var reason profiles.ReasonCode
		profs, reason = cfg.GroupProfiles(r.GroupID)
		r.PasskeyNotApplicable = string(reason)
		for _, p := range profs {
			r.PasskeyProfiles = append(r.PasskeyProfiles, ProfileRef{ID: p.ID, Name: p.Name})
		}
	}
	allowed := func(c profiles.Credential) bool {
		return !configured || (len(profs) > 0 && profiles.AcceptedByAny(profs, c))
	}

	byUser := make(map[string]UserSignIns, len(f.Users))
	for _, u := range f.Users {
		byUser[strings.ToLower(u.UserID)] = u
		r.SignIns += u.SignIns
		r.SignInsThatWouldFail += u.WouldFail
	}
	r.Members = len(f.Members)
	r.MemberStatus = make([]MemberStatus, 0, len(f.Members))
	for _, m := range f.Members {
		st := MemberStatus{UserID: m.UserID, UserPrincipalName: m.UserPrincipalName, DisplayName: m.DisplayName, Passkeys: len(m.Passkeys)}
		for _, c := range m.Passkeys {
			if allowed(c) {
				st.AllowedPasskeys++
			}
		}
		if st.AllowedPasskeys > 0 {
			r.MembersWithAllowedPasskey++
		}
		u := byUser[strings.ToLower(m.UserID)]
		st.SignIns, st.SignInsThatWouldFail = u.SignIns, u.WouldFail
		r.MemberStatus = append(r.MemberStatus, st)
	}

	r.Policies = make([]WavePolicy, 0, len(wave))
	index := map[string]int{}
	for _, p := range wave {
		results := make(map[string]int, len(signinlog.ImpactResults))
		for _, res := range signinlog.ImpactResults {
			results[res] = 0
		}
		index[strings.ToLower(p.ID)] = len(r.Policies)
		r.Policies = append(r.Policies, WavePolicy{ID: p.ID, DisplayName: p.DisplayName, State: p.State, Results: results})
	}
	for _, pr := range f.Results {
		if i, ok := index[strings.ToLower(pr.PolicyID)]; ok {
			r.Policies[i].Results[pr.Result] += pr.Count
		}
	}
	r.ReadyToEnforce = r.Members > 0 && r.MembersWithAllowedPasskey == r.Members && r.SignInsThatWouldFail == 0
	return r
}
