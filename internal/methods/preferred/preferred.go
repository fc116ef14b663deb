// Package preferred is Entra's system-preferred multifactor authentication
// setting, Graph's beta authenticationMethodsPolicy.systemCredentialPreferences
// (systemCredentialPreferences: excludeTargets, includeTargets, state
// advancedConfigState; includeTarget/excludeTarget: id, targetType, as in
// v1.0 CSDL ComplexType includeTarget/excludeTarget): whether a user asked
// for a second factor is prompted with the system's choice of their most
// secure registered method (internal/policy's ChooseSystemPreferredMethod),
// or chooses the method themselves.
package preferred

import (
	"strconv"
	"strings"

	"github.com/rpserver/rpserver/internal/methods/targeting"
)

// Graph's advancedConfigState.
const (
	StateDefault  = "default"
	StateEnabled  = "enabled"
	StateDisabled = "disabled"
)

// Stable validation codes.
const (
	CodeInvalidState   targeting.Code = "invalidSystemCredentialPreferencesState"
	CodeInvalidTarget  targeting.Code = "invalidSystemCredentialPreferencesTarget"
	CodeTooManyTargets targeting.Code = "tooManySystemCredentialPreferencesTargets"
)

const maxTargets = 500

// Target is Graph's includeTarget / excludeTarget.
type Target struct {
	ID         string         `json:"id"`
	TargetType targeting.Type `json:"targetType"`
}

// Preferences is systemCredentialPreferences.
type Preferences struct {
	State          string   `json:"state"`
	IncludeTargets []Target `json:"includeTargets"`
	ExcludeTargets []Target `json:"excludeTargets"`
}

// Default is Entra's out-of-the-box setting: state default, all users
// included. Entra treats default as Microsoft-managed, and Microsoft
// manages system-preferred MFA as on; so does the lab (its prompts were
// system-preferred before this setting existed).
func Default() Preferences {
	return Preferences{State: StateDefault, IncludeTargets: []Target{{ID: targeting.AllUsers, TargetType: targeting.Group}}, ExcludeTargets: []Target{}}
}

const path = "systemCredentialPreferences"

// Validate checks preferences an admin wrote.
func (p Preferences) Validate() error {
	switch p.State {
	case StateDefault, StateEnabled, StateDisabled:
	default:
		return targeting.Invalid(CodeInvalidState, path+".state", "state must be default, enabled or disabled")
	}
	if len(p.IncludeTargets)+len(p.ExcludeTargets) > maxTargets {
		return targeting.Invalid(CodeTooManyTargets, path, "at most %d targets", maxTargets)
	}
	for i, t := range p.IncludeTargets {
		if err := t.validate(path + ".includeTargets[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	for i, t := range p.ExcludeTargets {
		if err := t.validate(path + ".excludeTargets[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	return nil
}

func (t Target) validate(at string) error {
	if t.TargetType != targeting.User && t.TargetType != targeting.Group {
		return targeting.Invalid(CodeInvalidTarget, at+".targetType", "targetType must be user or group")
	}
	if strings.TrimSpace(t.ID) == "" || len(t.ID) > 64 {
		return targeting.Invalid(CodeInvalidTarget, at+".id", "id must be a user or group id (or all_users)")
	}
	return nil
}

// Applies reports whether s gets the system-preferred prompt: the setting
// is not disabled, s is included and not excluded (exclusion wins).
func (p Preferences) Applies(s targeting.Subject) bool {
	if p.State == StateDisabled {
		return false
	}
	for _, t := range p.ExcludeTargets {
		if targeting.Matches(t.ID, t.TargetType, s) {
			return false
		}
	}
	for _, t := range p.IncludeTargets {
		if targeting.Matches(t.ID, t.TargetType, s) {
			return true
		}
	}
	return false
}
