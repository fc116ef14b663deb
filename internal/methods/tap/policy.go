package tap

import (
	"github.com/rpserver/rpserver/internal/methods/targeting"

	"fmt"
	"strings"
	"time"
)

// Graph's identifiers for the TAP resources.
const (
	ODataTypeConfiguration = "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"
	ODataTypeMethod        = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"

	// ConfigurationID is the id Graph gives the TAP method configuration.
	ConfigurationID = "TemporaryAccessPass"

	AllUsersTargetID = targeting.AllUsers
)

// Graph's documented bounds.
const (
	MinLifetimeInMinutes = 10
	MaxLifetimeInMinutes = 43200 // 30 days
	MinLength            = 8
	MaxLength            = 48
)

// ErrorCode is a stable machine code; the HTTP layer maps every
// *ValidationError to a Graph error envelope with status 400.
type ErrorCode = targeting.Code

const (
	CodeInvalidState               ErrorCode = "invalidState"
	CodeInvalidConfigurationID     ErrorCode = "invalidConfigurationId"
	CodeMinimumLifetimeOutOfBounds ErrorCode = "minimumLifetimeOutOfBounds"
	CodeMaximumLifetimeOutOfBounds ErrorCode = "maximumLifetimeOutOfBounds"
	CodeMinimumExceedsMaximum      ErrorCode = "minimumLifetimeExceedsMaximum"
	CodeDefaultLifetimeOutOfRange  ErrorCode = "defaultLifetimeOutOfRange"
	CodeLengthOutOfBounds          ErrorCode = "lengthOutOfBounds"
	CodeInvalidTargetType          ErrorCode = "invalidTargetType"
	CodeInvalidTargetID            ErrorCode = "invalidTargetId"
	CodeMethodDisabled             ErrorCode = "temporaryAccessPassMethodDisabled"
	CodeMethodNotEnabledForUser    ErrorCode = "temporaryAccessPassNotEnabledForUser"
	CodeLifetimeOutOfRange         ErrorCode = "lifetimeOutOfRange"
	CodeStartDateTimeInPast        ErrorCode = "startDateTimeInPast"
	CodeStartDateTimeTooFar        ErrorCode = "startDateTimeTooFarInFuture"
)

// ValidationError is the shared validation error (code, message, JSON
// path of the offending property); every one maps to HTTP 400.
type ValidationError = targeting.ValidationError

func verr(code ErrorCode, target, format string, args ...any) *ValidationError {
	return targeting.Invalid(code, target, format, args...)
}

// MethodState is Graph's authenticationMethodState.
type MethodState string

const (
	StateEnabled  MethodState = "enabled"
	StateDisabled MethodState = "disabled"
)

// TargetType is Graph's authenticationMethodTargetType.
type TargetType = targeting.Type

const (
	TargetTypeGroup = targeting.Group
	TargetTypeUser  = targeting.User
)

// AuthenticationMethodTarget is Graph's authenticationMethodTarget.
type AuthenticationMethodTarget struct {
	ODataType              string     `json:"@odata.type,omitempty"`
	ID                     string     `json:"id"`
	TargetType             TargetType `json:"targetType"`
	IsRegistrationRequired bool       `json:"isRegistrationRequired"`
}

// ExcludeTarget is Graph's excludeTarget.
type ExcludeTarget struct {
	ODataType  string     `json:"@odata.type,omitempty"`
	ID         string     `json:"id"`
	TargetType TargetType `json:"targetType"`
}

// MethodConfiguration is Graph's temporaryAccessPassAuthenticationMethodConfiguration.
type MethodConfiguration struct {
	ODataType                string                       `json:"@odata.type,omitempty"`
	ID                       string                       `json:"id"`
	State                    MethodState                  `json:"state"`
	DefaultLifetimeInMinutes int                          `json:"defaultLifetimeInMinutes"`
	DefaultLength            int                          `json:"defaultLength"`
	MinimumLifetimeInMinutes int                          `json:"minimumLifetimeInMinutes"`
	MaximumLifetimeInMinutes int                          `json:"maximumLifetimeInMinutes"`
	IsUsableOnce             bool                         `json:"isUsableOnce"`
	IncludeTargets           []AuthenticationMethodTarget `json:"includeTargets"`
	ExcludeTargets           []ExcludeTarget              `json:"excludeTargets"`
}

// NewMethodConfiguration returns Entra's out-of-the-box TAP policy: disabled,
// all users targeted, 1 hour default and minimum, 8 hours maximum, 8
// characters, reusable.
func NewMethodConfiguration() MethodConfiguration {
	return MethodConfiguration{
		ODataType:                ODataTypeConfiguration,
		ID:                       ConfigurationID,
		State:                    StateDisabled,
		DefaultLifetimeInMinutes: 60,
		DefaultLength:            8,
		MinimumLifetimeInMinutes: 60,
		MaximumLifetimeInMinutes: 480,
		IncludeTargets:           []AuthenticationMethodTarget{{ID: AllUsersTargetID, TargetType: TargetTypeGroup}},
		ExcludeTargets:           []ExcludeTarget{},
	}
}

// Validate returns nil or the first *ValidationError, in a fixed order so a
// given bad document always yields the same code.
func (p MethodConfiguration) Validate() error {
	if p.ID != "" && !strings.EqualFold(p.ID, ConfigurationID) {
		return verr(CodeInvalidConfigurationID, "id", "id must be %q, got %q", ConfigurationID, p.ID)
	}
	if p.State != StateEnabled && p.State != StateDisabled {
		return verr(CodeInvalidState, "state", "state must be %q or %q, got %q", StateEnabled, StateDisabled, p.State)
	}
	if p.MinimumLifetimeInMinutes < MinLifetimeInMinutes || p.MinimumLifetimeInMinutes > MaxLifetimeInMinutes {
		return verr(CodeMinimumLifetimeOutOfBounds, "minimumLifetimeInMinutes",
			"minimumLifetimeInMinutes must be between %d and %d, got %d", MinLifetimeInMinutes, MaxLifetimeInMinutes, p.MinimumLifetimeInMinutes)
	}
	if p.MaximumLifetimeInMinutes < MinLifetimeInMinutes || p.MaximumLifetimeInMinutes > MaxLifetimeInMinutes {
		return verr(CodeMaximumLifetimeOutOfBounds, "maximumLifetimeInMinutes",
			"maximumLifetimeInMinutes must be between %d and %d, got %d", MinLifetimeInMinutes, MaxLifetimeInMinutes, p.MaximumLifetimeInMinutes)
	}
	if p.MinimumLifetimeInMinutes > p.MaximumLifetimeInMinutes {
		return verr(CodeMinimumExceedsMaximum, "minimumLifetimeInMinutes",
			"minimumLifetimeInMinutes (%d) exceeds maximumLifetimeInMinutes (%d)", p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes)
	}
	if p.DefaultLifetimeInMinutes < p.MinimumLifetimeInMinutes || p.DefaultLifetimeInMinutes > p.MaximumLifetimeInMinutes {
		return verr(CodeDefaultLifetimeOutOfRange, "defaultLifetimeInMinutes",
			"defaultLifetimeInMinutes must be between minimumLifetimeInMinutes (%d) and maximumLifetimeInMinutes (%d), got %d",
			p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes, p.DefaultLifetimeInMinutes)
	}
	if p.DefaultLength < MinLength || p.DefaultLength > MaxLength {
		return verr(CodeLengthOutOfBounds, "defaultLength", "defaultLength must be between %d and %d, got %d", MinLength, MaxLength, p.DefaultLength)
	}
	for i, t := range p.IncludeTargets {
		if err := validateTarget(t.ID, t.TargetType, fmt.Sprintf("includeTargets[%d]", i)); err != nil {
			return err
		}
	}
	for i, t := range p.ExcludeTargets {
		if err := validateTarget(t.ID, t.TargetType, fmt.Sprintf("excludeTargets[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func validateTarget(id string, tt TargetType, at string) error {
	if tt != TargetTypeGroup && tt != TargetTypeUser {
		return verr(CodeInvalidTargetType, at+".targetType", "targetType must be %q or %q, got %q", TargetTypeGroup, TargetTypeUser, tt)
	}
	if strings.TrimSpace(id) == "" {
		return verr(CodeInvalidTargetID, at+".id", "target id is required")
	}
	return nil
}

// Subject is the user a TAP is for, with their (transitive) group ids.
type Subject = targeting.Subject

// EnabledFor reports whether the policy lets s hold a TAP. Exclusions win.
func (p MethodConfiguration) EnabledFor(s Subject) bool {
	if p.State != StateEnabled {
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

// CreateRequest is the body of POST /users/{id}/authentication/temporaryAccessPassMethods.
// Pointers distinguish "omitted, use the policy default" from a given value.
type CreateRequest struct {
	StartDateTime     *time.Time `json:"startDateTime,omitempty"`
	LifetimeInMinutes *int       `json:"lifetimeInMinutes,omitempty"`
	IsUsableOnce      *bool      `json:"isUsableOnce,omitempty"`
}

// Resolved is a CreateRequest after policy defaults and rules are applied.
type Resolved struct {
	StartDateTime     time.Time `json:"startDateTime"`
	LifetimeInMinutes int       `json:"lifetimeInMinutes"`
	IsUsableOnce      bool      `json:"isUsableOnce"`
	Length            int       `json:"length"`
}

// StartSkew is how far in the past a startDateTime may be: admin consoles
// fill in "now" and send it a moment later, and refusing that would be silly.
const StartSkew = 5 * time.Minute

// Resolve checks a creation request for subject s against the policy at
// time now and fills in the defaults.
//
// isUsableOnce is forced to true when the policy is one-time, even if the
// request says false: the policy is a tenant-wide ceiling, and Graph
// documents it as restricting "all the passes in the tenant".
// startDateTime defaults to now, may lie up to StartSkew in the past (then it
// is kept, so the lifetime still counts from it), and may not lie further in
// the future than the policy's maximum lifetime: a pass that only becomes
// valid next quarter is a credential lying around, not a bootstrap.
func (p MethodConfiguration) Resolve(s Subject, req CreateRequest, now time.Time) (Resolved, error) {
	if p.State != StateEnabled {
		return Resolved{}, verr(CodeMethodDisabled, "", "the Temporary Access Pass method is disabled in this tenant")
	}
	if !p.EnabledFor(s) {
		return Resolved{}, verr(CodeMethodNotEnabledForUser, "", "the Temporary Access Pass method is not enabled for this user")
	}
	now = now.UTC().Truncate(time.Second)
	r := Resolved{
		StartDateTime:     now,
		LifetimeInMinutes: p.DefaultLifetimeInMinutes,
		IsUsableOnce:      p.IsUsableOnce,
		Length:            p.DefaultLength,
	}
	if req.LifetimeInMinutes != nil {
		r.LifetimeInMinutes = *req.LifetimeInMinutes
	}
	if r.LifetimeInMinutes < p.MinimumLifetimeInMinutes || r.LifetimeInMinutes > p.MaximumLifetimeInMinutes {
		return Resolved{}, verr(CodeLifetimeOutOfRange, "lifetimeInMinutes",
			"lifetimeInMinutes must be between %d and %d under the current policy, got %d",
			p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes, r.LifetimeInMinutes)
	}
	if req.IsUsableOnce != nil && !p.IsUsableOnce {
		r.IsUsableOnce = *req.IsUsableOnce
	}
	if req.StartDateTime != nil {
		start := req.StartDateTime.UTC().Truncate(time.Second)
		if start.Before(now.Add(-StartSkew)) {
			return Resolved{}, verr(CodeStartDateTimeInPast, "startDateTime", "startDateTime %s is in the past", start.Format(time.RFC3339))
		}
		if start.After(now.Add(time.Duration(p.MaximumLifetimeInMinutes) * time.Minute)) {
			return Resolved{}, verr(CodeStartDateTimeTooFar, "startDateTime",
				"startDateTime may be at most maximumLifetimeInMinutes (%d) ahead", p.MaximumLifetimeInMinutes)
		}
		r.StartDateTime = start
	}
	return r, nil
}
