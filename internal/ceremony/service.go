package ceremony

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/attestation"
)

// Config of the relying party.
type Config struct {
	RPID          string
	RPDisplayName string
	Origins       []string
	// RelatedOrigins are origins on other domains allowed to run ceremonies
	// for RPID (WebAuthn L3 §5.11): accepted like Origins and listed in
	// RelatedOriginsDocument.
	RelatedOrigins []string
	// ChallengeTTL bounds the time between begin and finish (default 5 min).
	ChallengeTTL time.Duration
	// ChallengeKey authenticates sealed sign-in challenges (seal.go); every
	// server on a database must have the same one (serve derives it from
	// the master key). Empty: a random key, for one process alone.
	ChallengeKey []byte
	Trust        *attestation.TrustStore
	// Algorithms are the COSE algorithms offered in pubKeyCredParams, most
	// preferred first (default DefaultAlgorithms). Registration refuses a
	// key of any other algorithm.
	Algorithms []int64
}

// Service runs the ceremonies.
type Service struct {
	wa      *webauthn.WebAuthn
	cfg     Config
	store   Store
	users   Users
	gate    RegistrationGate
	origins map[string]bool
	rpHash  [32]byte

	seal *challengeSealer

	credParams []protocol.CredentialParameter
	algorithms map[int64]bool
	Now        func() time.Time
}

// New validates the configuration and builds the service. gate may be nil
// (OpenGate).
func New(cfg Config, store Store, users Users, gate RegistrationGate) (*Service, error) {
	if cfg.RPDisplayName == "" {
		// Browsers show it when creating a passkey; the RP ID is better than nothing.
		cfg.RPDisplayName = cfg.RPID
	}
	if len(cfg.ChallengeKey) == 0 {
		cfg.ChallengeKey = make([]byte, 32)
		if _, err := rand.Read(cfg.ChallengeKey); err != nil {
			return nil, err
		}
	} else if len(cfg.ChallengeKey) < 32 {
		return nil, fmt.Errorf("ceremony: the challenge key must have at least 32 bytes, got %d", len(cfg.ChallengeKey))
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = 5 * time.Minute
	}
	if cfg.Trust == nil {
		cfg.Trust = attestation.NewTrustStore()
	}
	if gate == nil {
		gate = OpenGate{}
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	params, allowed, err := credentialParameters(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPDisplayName,
		RPOrigins:     append(slices.Clone(cfg.Origins), cfg.RelatedOrigins...),
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.ChallengeTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.ChallengeTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("ceremony: %w", err)
	}
	s := &Service{wa: wa, cfg: cfg, store: store, users: users, gate: gate, origins: map[string]bool{}, rpHash: sha256.Sum256([]byte(cfg.RPID)), Now: time.Now,
		credParams: params, algorithms: allowed, seal: newChallengeSealer(cfg.ChallengeKey)}
	for _, o := range append(slices.Clone(cfg.Origins), cfg.RelatedOrigins...) {
		s.origins[o] = true
	}
	return s, nil
}

// RelatedOriginsDocument is what /.well-known/webauthn serves: every origin
// that may run ceremonies for the RP ID.
func (s *Service) RelatedOriginsDocument() (*protocol.RelatedOrigins, error) {
	return s.wa.RelatedOrigins()
}

// Authenticator is the trust store's catalog entry (name, icons) for an
// AAGUID: the operator's file, FIDO MDS, then the embedded lists.
func (s *Service) Authenticator(aaguid string) (attestation.Authenticator, bool) {
	u, err := uuid.Parse(aaguid)
	if err != nil {
		return attestation.Authenticator{}, false
	}
	return s.cfg.Trust.Authenticator(u)
}

// Authenticators lists the catalog's models matching search (name or
// AAGUID prefix), at most limit, and how many matched.
func (s *Service) Authenticators(search string, limit int) ([]attestation.Authenticator, int) {
	return s.cfg.Trust.Authenticators(search, limit)
}

// waUser adapts a user and the credentials the library should see.
type waUser struct {
	info  UserInfo
	creds []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte {
	id, err := uuid.Parse(u.info.ID)
	if err != nil {
		return []byte(u.info.ID)
	}
	return id[:]
}
func (u *waUser) WebAuthnName() string                       { return u.info.Name }
func (u *waUser) WebAuthnDisplayName() string                { return u.info.DisplayName }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func userIDFromHandle(h []byte) string {
	if len(h) == 16 {
		return uuid.UUID(h).String()
	}
	return ""
}

func toLibrary(c *Credential) webauthn.Credential {
	aaguid, _ := uuid.Parse(c.AAGUID)
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags: webauthn.CredentialFlags{
			UserPresent: true, UserVerified: c.UserVerified,
			BackupEligible: c.BackupEligible, BackupState: c.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: aaguid[:], SignCount: c.SignCount, CloneWarning: c.CloneSuspected,
			Attachment: protocol.AuthenticatorAttachment(c.Attachment)},
	}
}

func (s *Service) activeUser(ctx context.Context, id string) (UserInfo, error) {
	u, err := s.users.UserByID(ctx, id)
	if err != nil {
		return u, err
	}
	if !u.Enabled {
		return u, apperr.Forbidden(CodeUserDisabled, "the account is disabled")
	}
	return u, nil
}

// takeSession finds and consumes the challenge the client echoed.
func (s *Service) takeSession(ctx context.Context, kind, challenge string) (Challenge, webauthn.SessionData, error) {
	h := sha256.Sum256([]byte(challenge))
	c, err := s.store.TakeChallenge(ctx, h[:], kind)
	if err != nil {
		return c, webauthn.SessionData{}, challengeError(err)
	}
	sd, err := s.openSession(c)
	return c, sd, err
}

// challengeError turns "no such challenge" into its stable code.
func challengeError(err error) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return invalid(CodeChallengeNotFound, "the challenge was never issued or was already used; begin the ceremony again")
	}
	return err
}

// openSession refuses an expired challenge and decodes the library session.
func (s *Service) openSession(c Challenge) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if !s.Now().Before(c.ExpiresAt) {
		return sd, invalid(CodeChallengeExpired, "the challenge expired at %s; begin the ceremony again", c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if _, err := sd.UnmarshalMsg(c.SessionData); err != nil {
		return sd, fmt.Errorf("decode session: %w", err)
	}
	return sd, nil
}

// checkClientData verifies the collected client data's type and origin.
func (s *Service) checkClientData(cd protocol.CollectedClientData, want protocol.CeremonyType) error {
	if cd.Type != want {
		return invalid(CodeClientDataTypeMismatch, "clientDataJSON.type is %q, want %q", cd.Type, want)
	}
	if !s.origins[cd.Origin] {
		return invalid(CodeOriginMismatch, "origin %q is not one of this relying party's origins", cd.Origin)
	}
	return nil
}

// checkAuthData verifies RP ID hash, UP, UV and the backup flag rule.
func (s *Service) checkAuthData(ad *protocol.AuthenticatorData, requireUV bool) error {
	if !bytes.Equal(ad.RPIDHash, s.rpHash[:]) {
		return invalid(CodeRPIDMismatch, "the authenticator signed for another RP ID than %q", s.cfg.RPID)
	}
	if !ad.Flags.UserPresent() {
		return invalid(CodeUserPresenceRequired, "the authenticator did not report user presence (UP)")
	}
	if requireUV && !ad.Flags.UserVerified() {
		return invalid(CodeUserVerificationNeeded, "user verification (UV) is required and the authenticator did not perform it")
	}
	if !ad.Flags.HasBackupEligible() && ad.Flags.HasBackupState() {
		return invalid(CodeInvalidBackupFlags, "backup state (BS) is set while backup eligibility (BE) is not, which WebAuthn forbids")
	}
	return nil
}

// libraryError classifies what go-webauthn refused after our own checks
// passed.
func libraryError(err error) error {
	if reason, ok := attestation.ReasonOf(err); ok {
		return invalid(CodeAttestationInvalid, "the attestation statement is invalid (%s): %v", reason, err).Wrap(err)
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		detail := pe.Details
		if pe.DevInfo != "" {
			detail += " (" + pe.DevInfo + ")"
		}
		if strings.Contains(strings.ToLower(pe.Details), "signature") {
			return invalid(CodeSignatureInvalid, "the signature does not verify: %s", detail).Wrap(err)
		}
		return invalid(CodeVerificationFailed, "WebAuthn verification failed: %s", detail).Wrap(err)
	}
	return invalid(CodeVerificationFailed, "WebAuthn verification failed: %v", err).Wrap(err)
}

func descriptor(c *Credential) protocol.CredentialDescriptor {
	lib := toLibrary(c)
	return lib.Descriptor()
}
