package tap

import (
	"time"

	"github.com/google/uuid"
)

// MethodUsabilityReason is Graph's methodUsabilityReason, with Graph's
// (PascalCase) spellings.
type MethodUsabilityReason string

const (
	ReasonEnabledByPolicy  MethodUsabilityReason = "EnabledByPolicy"
	ReasonDisabledByPolicy MethodUsabilityReason = "DisabledByPolicy"
	ReasonExpired          MethodUsabilityReason = "Expired"
	ReasonNotYetValid      MethodUsabilityReason = "NotYetValid"
	ReasonOneTimeUsed      MethodUsabilityReason = "OneTimeUsed"
)

// TemporaryAccessPassAuthenticationMethod is Graph's resource of that name.
// TemporaryAccessPass is filled only in the response to the create call;
// Graph returns null for it on every later read, and so does ToGraph.
type TemporaryAccessPassAuthenticationMethod struct {
	ODataType             string                `json:"@odata.type,omitempty"`
	ID                    string                `json:"id"`
	TemporaryAccessPass   *string               `json:"temporaryAccessPass"`
	CreatedDateTime       time.Time             `json:"createdDateTime"`
	StartDateTime         time.Time             `json:"startDateTime"`
	LifetimeInMinutes     int                   `json:"lifetimeInMinutes"`
	IsUsableOnce          bool                  `json:"isUsableOnce"`
	IsUsable              bool                  `json:"isUsable"`
	MethodUsabilityReason MethodUsabilityReason `json:"methodUsabilityReason"`
	LastUsedDateTime      *time.Time            `json:"lastUsedDateTime,omitempty"`
}

// Record is the storage form of a pass. It holds the argon2id hash, never
// the pass. LastUsedDateTime doubles as the one-time "used" marker, which is
// how Graph exposes it too (lastUsedDateTime, inherited from authenticationMethod).
type Record struct {
	ID                string     `json:"id"`
	UserID            string     `json:"userId"`
	SecretHash        string     `json:"secretHash"`
	CreatedDateTime   time.Time  `json:"createdDateTime"`
	StartDateTime     time.Time  `json:"startDateTime"`
	LifetimeInMinutes int        `json:"lifetimeInMinutes"`
	IsUsableOnce      bool       `json:"isUsableOnce"`
	LastUsedDateTime  *time.Time `json:"lastUsedDateTime,omitempty"`
}

// ExpiresAt is the first instant at which the pass is no longer valid.
func (r Record) ExpiresAt() time.Time {
	return r.StartDateTime.Add(time.Duration(r.LifetimeInMinutes) * time.Minute)
}

// Usability decides whether the pass can be used at now. The order matters
// when several reasons hold: policy first (an admin switching TAP off must
// win over everything), then one-time use (a used pass stays "used" even
// after it would have expired, which is the more useful fact in a log), then
// the validity window.
//
// This is a read-only judgement. Redemption must still be done atomically by
// the store; see the package documentation.
func (r Record) Usability(p MethodConfiguration, s Subject, now time.Time) (bool, MethodUsabilityReason) {
	switch {
	case !p.EnabledFor(s):
		return false, ReasonDisabledByPolicy
	case r.IsUsableOnce && r.LastUsedDateTime != nil:
		return false, ReasonOneTimeUsed
	case now.Before(r.StartDateTime):
		return false, ReasonNotYetValid
	case !now.Before(r.ExpiresAt()):
		return false, ReasonExpired
	}
	return true, ReasonEnabledByPolicy
}

// ToGraph renders the record as Graph shows it on reads (no pass).
func (r Record) ToGraph(p MethodConfiguration, s Subject, now time.Time) TemporaryAccessPassAuthenticationMethod {
	usable, reason := r.Usability(p, s, now)
	return TemporaryAccessPassAuthenticationMethod{
		ODataType:             ODataTypeMethod,
		ID:                    r.ID,
		CreatedDateTime:       r.CreatedDateTime,
		StartDateTime:         r.StartDateTime,
		LifetimeInMinutes:     r.LifetimeInMinutes,
		IsUsableOnce:          r.IsUsableOnce,
		IsUsable:              usable,
		MethodUsabilityReason: reason,
		LastUsedDateTime:      r.LastUsedDateTime,
	}
}

// Issue validates req against the policy, generates and hashes a pass, and
// returns the record to store plus the create response, which is the only
// place the pass ever appears in clear.
func Issue(p MethodConfiguration, s Subject, req CreateRequest, now time.Time) (Record, TemporaryAccessPassAuthenticationMethod, error) {
	res, err := p.Resolve(s, req, now)
	if err != nil {
		return Record{}, TemporaryAccessPassAuthenticationMethod{}, err
	}
	secret, err := Generate(res.Length)
	if err != nil {
		return Record{}, TemporaryAccessPassAuthenticationMethod{}, err
	}
	h := Hash(secret)
	rec := Record{
		ID:                uuid.NewString(),
		UserID:            s.UserID,
		SecretHash:        h,
		CreatedDateTime:   now.UTC().Truncate(time.Second),
		StartDateTime:     res.StartDateTime,
		LifetimeInMinutes: res.LifetimeInMinutes,
		IsUsableOnce:      res.IsUsableOnce,
	}
	out := rec.ToGraph(p, s, now)
	out.TemporaryAccessPass = &secret
	return rec, out, nil
}
