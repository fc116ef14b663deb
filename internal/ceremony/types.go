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

// Challenge is a begun ceremony awaiting its finish: a registration's is
// a stored row; a sign-in's is opened from its seal (seal.go).
type Challenge struct {
	// Hash keys it: a registration's is the SHA-256 of the challenge as the
	// browser echoes it, a sign-in's the sealed challenge's nonce.
	Hash        []byte
	Kind        string // KindRegistration or KindAuthentication
	UserID      string // empty for discoverable sign-in
	SessionData []byte // registration: go-webauthn SessionData, msgp-encoded; a sign-in stores none
	Label       string // registration: the passkey name asked for at begin
	ExpiresAt   time.Time
	// Epoch is a sign-in challenge's: the database's challenge epoch when
	// it was sealed (AllowList); it is taken only while that is current.
	Epoch int64
}

const (
	KindRegistration   = "registration"
	KindAuthentication = "authentication"
)

// Allow is what a sign-in's begin reads: the user named (only when they
// have passkeys), their passkeys, and the challenge epoch to seal.
type Allow struct {
	UserID      string
	Credentials []CredentialRef
	Epoch       int64
}

// CredentialRef is what a sign-in's allow list needs of a credential.
type CredentialRef struct {
	ID         []byte
	Transports []string
}

// Store persists challenges and credentials.
type Store interface {
	SaveChallenge(ctx context.Context, c Challenge) error
	// AllowList reads a sign-in's begin in one read-only round trip: with
	// upn naming a user who has passkeys, that user and their credentials'
	// ids and transports; otherwise (no upn, unknown upn, no passkeys) no
	// user and an empty list. Epoch is the database's challenge epoch,
	// drawn when there is none (a new database, or after a crash or a
	// failover emptied it).
	AllowList(ctx context.Context, upn string) (Allow, error)
	// TakeChallenge deletes and returns the challenge; NotFound when it does
	// not exist (never issued, or already used). Expired rows are returned so
	// the caller can say "expired" rather than "unknown".
	TakeChallenge(ctx context.Context, hash []byte, kind string) (Challenge, error)
	// TakeAssertionChallenge records a sign-in challenge (opened from its
	// seal) as used, only while c.Epoch is the database's epoch and the
	// nonce (c.Hash) was not used before (NotFound otherwise), and in the
	// same round trip loads the credential the response names and its
	// owner: the hot path pays one database round trip before verifying.
	// The credential is nil when no such credential exists.
	TakeAssertionChallenge(ctx context.Context, c Challenge, credentialID []byte) (*Credential, *UserInfo, error)
	// PurgeExpiredChallenges removes challenges and used sign-in nonces
	// past their expiry; returns how many.
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
