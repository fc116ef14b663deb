package policy

import "time"

// TemporaryAccessPassPolicy is the part of Graph's
// temporaryAccessPassAuthenticationMethodConfiguration that gates usability.
type TemporaryAccessPassPolicy struct {
	State                    string `json:"state"` // enabled, disabled
	DefaultLifetimeInMinutes int    `json:"defaultLifetimeInMinutes"`
	DefaultLength            int    `json:"defaultLength"`
	MinimumLifetimeInMinutes int    `json:"minimumLifetimeInMinutes"`
	MaximumLifetimeInMinutes int    `json:"maximumLifetimeInMinutes"`
	IsUsableOnce             bool   `json:"isUsableOnce"`
}

// TemporaryAccessPass is Graph's temporaryAccessPassAuthenticationMethod
// without the secret. LastUsedDateTime (Graph beta) doubles as the "used"
// marker: a one-time pass that has a last use is spent.
type TemporaryAccessPass struct {
	ID                string    `json:"id"`
	CreatedDateTime   time.Time `json:"createdDateTime"`
	StartDateTime     time.Time `json:"startDateTime,omitzero"`
	LifetimeInMinutes int       `json:"lifetimeInMinutes"`
	IsUsableOnce      bool      `json:"isUsableOnce"`
	LastUsedDateTime  time.Time `json:"lastUsedDateTime,omitzero"`
}

// Graph's methodUsabilityReason values.
const (
	TAPEnabledByPolicy  = "EnabledByPolicy"
	TAPDisabledByPolicy = "DisabledByPolicy"
	TAPExpired          = "Expired"
	TAPNotYetValid      = "NotYetValid"
	TAPOneTimeUsed      = "OneTimeUsed"
)

// TAPUsability is Graph's isUsable / methodUsabilityReason pair.
type TAPUsability struct {
	IsUsable              bool   `json:"isUsable"`
	MethodUsabilityReason string `json:"methodUsabilityReason"`
}

// CheckTemporaryAccessPass decides whether tap can be used at now. The
// order matters for what the admin sees: a disabled method policy trumps
// everything (Entra reports DisabledByPolicy even for a fresh pass), then a
// spent one-time pass, then the validity window. The window is half-open:
// usable from startDateTime up to, not including, start+lifetime.
func CheckTemporaryAccessPass(policy TemporaryAccessPassPolicy, tap TemporaryAccessPass, now time.Time) TAPUsability {
	if policy.State != StateEnabled {
		return TAPUsability{MethodUsabilityReason: TAPDisabledByPolicy}
	}
	// The tenant-wide isUsableOnce overrides a pass created as multi-use.
	once := tap.IsUsableOnce || policy.IsUsableOnce
	if once && !tap.LastUsedDateTime.IsZero() {
		return TAPUsability{MethodUsabilityReason: TAPOneTimeUsed}
	}
	start := tap.StartDateTime
	if start.IsZero() {
		start = tap.CreatedDateTime
	}
	if now.Before(start) {
		return TAPUsability{MethodUsabilityReason: TAPNotYetValid}
	}
	if !now.Before(start.Add(time.Duration(tap.LifetimeInMinutes) * time.Minute)) {
		return TAPUsability{MethodUsabilityReason: TAPExpired}
	}
	return TAPUsability{IsUsable: true, MethodUsabilityReason: TAPEnabledByPolicy}
}

// TAPMode is the authenticationMethodModes member a sign-in with tap
// satisfies; strengths distinguish one-time from multi-use passes.
func TAPMode(policy TemporaryAccessPassPolicy, tap TemporaryAccessPass) Mode {
	if tap.IsUsableOnce || policy.IsUsableOnce {
		return ModeTemporaryAccessPassOneTime
	}
	return ModeTemporaryAccessPassMultiUse
}
