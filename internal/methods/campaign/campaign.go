// Package campaign is Entra's registration campaign (Graph's
// registrationEnforcement.authenticationMethodsRegistrationCampaign): who
// is nudged after sign-in to register a method, for how long a nudge may be
// snoozed, and the pure decision whether a given sign-in is nudged.
//
// Shapes come from Graph's CSDL (msgraph-metadata, schemas/v1.0-Prod.csdl:
// ComplexType authenticationMethodsRegistrationCampaign with excludeTargets,
// includeTargets, snoozeDurationInDays, state; its include target
// authenticationMethodsRegistrationCampaignIncludeTarget with id,
// targetType, targetedAuthenticationMethod; enforceRegistrationAfterAllowedSnoozes
// is a beta property, listed in internal/graphschema's betaProps).
package campaign

import (
	"strconv"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/methods/targeting"
)

// Graph's advancedConfigState.
const (
	StateDefault  = "default"
	StateEnabled  = "enabled"
	StateDisabled = "disabled"
)

// MicrosoftAuthenticator is the one targetedAuthenticationMethod the lab
// models (Entra's campaign targets Microsoft Authenticator; Graph types the
// property as a plain string).
const MicrosoftAuthenticator = "microsoftAuthenticator"

// Limits Entra enforces.
const (
	MaxSnoozeDays = 14
	// AllowedSnoozes is how many times a user may skip the nudge when
	// enforceRegistrationAfterAllowedSnoozes is true (Entra: three).
	AllowedSnoozes = 3
	maxTargets     = 500
)

// Stable validation codes.
const (
	CodeInvalidState   targeting.Code = "invalidCampaignState"
	CodeInvalidSnooze  targeting.Code = "invalidSnoozeDuration"
	CodeInvalidTarget  targeting.Code = "invalidCampaignTarget"
	CodeUnknownMethod  targeting.Code = "unsupportedTargetedAuthenticationMethod"
	CodeTooManyTargets targeting.Code = "tooManyCampaignTargets"
)

// IncludeTarget is authenticationMethodsRegistrationCampaignIncludeTarget.
type IncludeTarget struct {
	ID                           string         `json:"id"`
	TargetType                   targeting.Type `json:"targetType"`
	TargetedAuthenticationMethod string         `json:"targetedAuthenticationMethod"`
}

// ExcludeTarget is Graph's excludeTarget.
type ExcludeTarget struct {
	ID         string         `json:"id"`
	TargetType targeting.Type `json:"targetType"`
}

// Campaign is authenticationMethodsRegistrationCampaign.
type Campaign struct {
	SnoozeDurationInDays                   int             `json:"snoozeDurationInDays"`
	EnforceRegistrationAfterAllowedSnoozes bool            `json:"enforceRegistrationAfterAllowedSnoozes"`
	State                                  string          `json:"state"`
	ExcludeTargets                         []ExcludeTarget `json:"excludeTargets"`
	IncludeTargets                         []IncludeTarget `json:"includeTargets"`
}

// RegistrationEnforcement is Graph's registrationEnforcement.
type RegistrationEnforcement struct {
	AuthenticationMethodsRegistrationCampaign Campaign `json:"authenticationMethodsRegistrationCampaign"`
}

// Default is Entra's out-of-the-box campaign: state default (which Entra
// treats as Microsoft-managed; the lab as off), one snooze day, all users
// targeted for Microsoft Authenticator.
func Default() RegistrationEnforcement {
	return RegistrationEnforcement{AuthenticationMethodsRegistrationCampaign: Campaign{
		SnoozeDurationInDays:                   1,
		EnforceRegistrationAfterAllowedSnoozes: true,
		State:                                  StateDefault,
		ExcludeTargets:                         []ExcludeTarget{},
		IncludeTargets: []IncludeTarget{{
			ID: targeting.AllUsers, TargetType: targeting.Group, TargetedAuthenticationMethod: MicrosoftAuthenticator,
		}},
	}}
}

// Enabled reports whether the campaign nudges anyone. State default is
// Microsoft-managed in Entra; the lab nudges only when told explicitly.
func (c Campaign) Enabled() bool { return c.State == StateEnabled }

const path = "registrationEnforcement.authenticationMethodsRegistrationCampaign"

// Validate checks a campaign an admin wrote.
func (c Campaign) Validate() error {
	switch c.State {
	case StateDefault, StateEnabled, StateDisabled:
	default:
		return targeting.Invalid(CodeInvalidState, path+".state", "state must be default, enabled or disabled")
	}
	if c.SnoozeDurationInDays < 0 || c.SnoozeDurationInDays > MaxSnoozeDays {
		return targeting.Invalid(CodeInvalidSnooze, path+".snoozeDurationInDays", "snoozeDurationInDays must be 0 to %d", MaxSnoozeDays)
	}
	if len(c.IncludeTargets)+len(c.ExcludeTargets) > maxTargets {
		return targeting.Invalid(CodeTooManyTargets, path, "at most %d targets", maxTargets)
	}
	for i, t := range c.IncludeTargets {
		at := path + ".includeTargets[" + itoa(i) + "]"
		if err := validTarget(t.ID, t.TargetType, at); err != nil {
			return err
		}
		if t.TargetedAuthenticationMethod != MicrosoftAuthenticator {
			return targeting.Invalid(CodeUnknownMethod, at+".targetedAuthenticationMethod", "the lab's campaign targets microsoftAuthenticator only")
		}
	}
	for i, t := range c.ExcludeTargets {
		if err := validTarget(t.ID, t.TargetType, path+".excludeTargets["+itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

func validTarget(id string, t targeting.Type, at string) error {
	if t != targeting.User && t != targeting.Group {
		return targeting.Invalid(CodeInvalidTarget, at+".targetType", "targetType must be user or group")
	}
	if strings.TrimSpace(id) == "" || len(id) > 64 {
		return targeting.Invalid(CodeInvalidTarget, at+".id", "id must be a user or group id (or all_users)")
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// Targeted returns the method the campaign wants s to register, and
// whether s is targeted at all (included and not excluded).
func (c Campaign) Targeted(s targeting.Subject) (string, bool) {
	if !c.Enabled() {
		return "", false
	}
	for _, t := range c.ExcludeTargets {
		if targeting.Matches(t.ID, t.TargetType, s) {
			return "", false
		}
	}
	for _, t := range c.IncludeTargets {
		if targeting.Matches(t.ID, t.TargetType, s) {
			return t.TargetedAuthenticationMethod, true
		}
	}
	return "", false
}

// Snoozes is what the lab remembers of a user's skips.
type Snoozes struct {
	Count  int
	LastAt time.Time
}

// Nudge is the interrupt a completed sign-in carries.
type Nudge struct {
	TargetedAuthenticationMethod string `json:"targetedAuthenticationMethod"`
	SnoozesRemaining             int    `json:"snoozesRemaining"`
	CanSnooze                    bool   `json:"canSnooze"`
}

// Decide returns the nudge for a targeted user who lacks the method, or
// nil while their last snooze is younger than snoozeDurationInDays.
func (c Campaign) Decide(method string, sn Snoozes, now time.Time) *Nudge {
	if sn.Count > 0 && now.Before(sn.LastAt.Add(time.Duration(c.SnoozeDurationInDays)*24*time.Hour)) {
		return nil
	}
	n := &Nudge{TargetedAuthenticationMethod: method, SnoozesRemaining: -1, CanSnooze: true}
	if c.EnforceRegistrationAfterAllowedSnoozes {
		n.SnoozesRemaining = max(AllowedSnoozes-sn.Count, 0)
		n.CanSnooze = n.SnoozesRemaining > 0
	}
	return n
}
