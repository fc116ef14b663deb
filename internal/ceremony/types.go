package ceremony

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/attestation"
)

// Credential is a registered passkey as stored.
type Credential struct {
	ID                []byte
	MethodID          string // Graph fido2AuthenticationMethod id
	UserID            string
	PublicKey         []byte // COSE_Key
	AAGUID            string
	AttestationFormat string
	AttestationType   string
	Attestation       attestation.Result
	BackupEligible    bool
	BackupState       bool
	UserVerified      bool
	SignCount         uint32
	CloneSuspected    bool
	Transports        []string
	Attachment        string
	DisplayName       string
	PasskeyProfileID  string
	CreatedAt         time.Time
	LastUsedAt        *time.Time
}

// Challenge is a begun ceremony awaiting its finish.
type Challenge struct {
	Hash        []byte // SHA-256 of the challenge as the browser echoes it
	Kind        string // KindRegistration or KindAuthentication
	UserID      string // empty for discoverable sign-in
	SessionData []byte // registration: go-webauthn SessionData, msgp-encoded; a sign-in stores none
	Label       string // registration: the passkey name asked for at begin
	ExpiresAt   time.Time
	// Client is the address of an anonymous caller (a sign-in begun by
	// someone not yet signed in); empty otherwise. A challenge with a
	// Client is saved only within Pending.
	Client  string
	Pending PendingBound
}

// PendingBound caps the unexpired challenges of anonymous callers: per
// client, and of all of them together. The store checks it in the same
// statement that saves the challenge, so bounding costs no extra round
// trip; concurrent begins may overshoot by at most their number. Over the
// bound the store refuses with 429 CodeTooManyPendingChallenges.
type PendingBound struct {
	PerClient int
	Total     int
}

const (
	KindRegistration   = "registration"
	KindAuthentication = "authentication"
)

// CredentialRef is what a sign-in's allow list needs of a credential.
type CredentialRef struct {
	ID         []byte
	Transports []string
}

// Store persists challenges and credentials.
type Store interface {
	SaveChallenge(ctx context.Context, c Challenge) error
	// BeginAssertion stores a sign-in challenge and returns the allow list,
	// in one round trip: with upn naming a user who has passkeys, the
	// challenge is bound to that user (c.UserID is ignored) and their
	// credentials are returned; otherwise (no upn, unknown upn, no
	// passkeys) the challenge is discoverable and the list empty. With
	// c.Client set it saves the challenge only within c.Pending, like
	// SaveChallenge (429 CodeTooManyPendingChallenges beyond).
	BeginAssertion(ctx context.Context, upn string, c Challenge) ([]CredentialRef, error)
	// TakeChallenge deletes and returns the challenge; NotFound when it does
	// not exist (never issued, or already used). Expired rows are returned so
	// the caller can say "expired" rather than "unknown".
	TakeChallenge(ctx context.Context, hash []byte, kind string) (Challenge, error)
	// TakeAssertionChallenge is TakeChallenge for a sign-in, in the same
	// round trip also loading the credential the response names and its
	// owner: the hot path pays one database round trip before verifying.
	// The credential is nil when no such credential exists.
	TakeAssertionChallenge(ctx context.Context, hash, credentialID []byte) (Challenge, *Credential, *UserInfo, error)
	// PurgeExpiredChallenges removes rows past their expiry; returns how many.
	PurgeExpiredChallenges(ctx context.Context, now time.Time) (int64, error)

	// CreateCredential stores a new credential; Conflict when the id exists.
	CreateCredential(ctx context.Context, c Credential) (Credential, error)
	GetCredential(ctx context.Context, id []byte) (Credential, error)
	ListCredentials(ctx context.Context, userID string) ([]Credential, error)
	// RecordUse advances the counter only if it grows (or both old and new are
	// zero, as synced passkeys report) and sets last use; false when the
	// stored counter is not below the new one: a possible clone.
	RecordUse(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) (bool, error)
	MarkCloneSuspected(ctx context.Context, id []byte) error
}

// UserInfo is what the ceremony needs to know of a user.
type UserInfo struct {
	ID          string
	Name        string // userPrincipalName
	DisplayName string
	Enabled     bool
}

// Users looks users up.
type Users interface {
	UserByID(ctx context.Context, id string) (UserInfo, error)
	UserByName(ctx context.Context, upn string) (UserInfo, error)
}

// Requirements are what the gate wants of a registration ceremony.
type Requirements struct {
	// Attestation conveyance: "none", "indirect", "direct" or "enterprise".
	Attestation string
	// PasskeyProfileIDs that apply, recorded with the credential.
	PasskeyProfileIDs []string
	// Hints are WebAuthn L3 PublicKeyCredentialHints ("security-key",
	// "client-device", "hybrid"), most preferred first, from the passkey
	// profiles.
	Hints []string
}

// NewCredentialFacts is what the gate decides on.
type NewCredentialFacts struct {
	AAGUID         string
	BackupEligible bool
	BackupState    bool
	Attestation    attestation.Result
}

// Verdict of the gate: accepted, or refused with a stable reason.
type Verdict struct {
	Accepted         bool
	Reason           string
	Message          string
	PasskeyProfileID string
}

// RegistrationGate decides whether a user may register and which credentials
// are acceptable (internal/profiles implements it). PreCheck runs at begin so
// a user who may not register never gets a challenge.
type RegistrationGate interface {
	PreCheck(ctx context.Context, userID string) (Requirements, error)
	Decide(ctx context.Context, userID string, facts NewCredentialFacts) (Verdict, error)
}

// OpenGate accepts every well-formed credential and asks for direct
// attestation so every registration gets an attestation report. It is the
// gate until FIDO2 method policy is configured.
type OpenGate struct{}

func (OpenGate) PreCheck(context.Context, string) (Requirements, error) {
	return Requirements{Attestation: "direct"}, nil
}

func (OpenGate) Decide(context.Context, string, NewCredentialFacts) (Verdict, error) {
	return Verdict{Accepted: true}, nil
}
