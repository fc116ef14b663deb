package methods

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/methods/tap"
)

// Configuration ids (the store's keys).
const (
	ConfigFido2 = "fido2"
	ConfigTAP   = "temporaryAccessPass"
)

// ConfigStore persists method configuration documents.
type ConfigStore interface {
	// GetConfig returns the stored document and its version; NotFound when
	// the configuration was never written.
	GetConfig(ctx context.Context, id string) (doc []byte, version int64, err error)
	// UpdateConfig calls fn with the current document (nil when never
	// written) while holding the row lock, and stores what fn returns with
	// the version incremented. When fn fails nothing is written.
	UpdateConfig(ctx context.Context, id string, fn func(cur []byte) ([]byte, error)) (version int64, err error)
	// ResetConfig replaces the document by doc (Entra's default) as a
	// reset: audited as one, a no-op when doc is already what is stored.
	ResetConfig(ctx context.Context, id string, doc []byte) error
}

// TAPStore persists Temporary Access Passes and the per-user attempt count.
type TAPStore interface {
	// CreateTAP stores a pass; Conflict (CodeTAPExists) when the user holds one.
	CreateTAP(ctx context.Context, r tap.Record) error
	// TAPOfUser returns the user's pass; NotFound when none.
	TAPOfUser(ctx context.Context, userID string) (tap.Record, error)
	// DeleteTAP removes the user's pass with that id; NotFound when absent.
	DeleteTAP(ctx context.Context, userID, id string) error
	// RedeemTAP marks the pass used at now with one conditional write that
	// succeeds only while the pass is inside its validity window and, for a
	// one-time pass, unused. ok is false when it did not qualify.
	RedeemTAP(ctx context.Context, id string, now time.Time) (rec tap.Record, ok bool, err error)
	// UnredeemTAP undoes one RedeemTAP: it puts back the pass's previous
	// last use (nil: unused) only while the pass still carries the use at
	// usedAt, so it can never undo another sign-in's redemption.
	UnredeemTAP(ctx context.Context, id string, usedAt time.Time, previous *time.Time) error
	// ReserveTAPAttempt atomically counts one attempt for the user in the
	// fixed window starting at the stored window start (a new window when
	// the old one is over) and returns the count including this one.
	ReserveTAPAttempt(ctx context.Context, userID string, now time.Time, window time.Duration) (attempts int, windowStart time.Time, err error)
	// ReleaseTAPAttempt gives one reserved attempt back (never below zero).
	ReleaseTAPAttempt(ctx context.Context, userID string) error
}

// CredentialStore reads and edits registered passkeys by their Graph method id.
type CredentialStore interface {
	ListCredentials(ctx context.Context, userID string) ([]ceremony.Credential, error)
	// GetCredentialByMethodID returns the user's credential; NotFound when
	// the id is unknown or belongs to another user.
	GetCredentialByMethodID(ctx context.Context, userID, methodID string) (ceremony.Credential, error)
	RenameCredential(ctx context.Context, userID, methodID, displayName string) (ceremony.Credential, error)
	DeleteCredentialByMethodID(ctx context.Context, userID, methodID string) error
}
