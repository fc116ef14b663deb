package ceremony

import (
	"context"
	"crypto/sha256"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/attestation"
)

// RegistrationOptions tune a registration begin.
type RegistrationOptions struct {
	// DisplayName names the passkey in Security Info (default: the model name).
	DisplayName string
	// Attachment: "platform", "cross-platform" or "" for either.
	Attachment string
}

// MaxPasskeyNameLen bounds passkey display names.
const MaxPasskeyNameLen = 128

// BeginRegistration returns the options for navigator.credentials.create.
func (s *Service) BeginRegistration(ctx context.Context, userID string, opts RegistrationOptions) (*protocol.CredentialCreation, error) {
	if utf8.RuneCountInString(opts.DisplayName) > MaxPasskeyNameLen || !utf8.ValidString(opts.DisplayName) {
		return nil, invalid("invalidDisplayName", "displayName must be valid text of at most %d characters", MaxPasskeyNameLen).WithTarget("displayName")
	}
	switch opts.Attachment {
	case "", "platform", "cross-platform":
	default:
		return nil, invalid("invalidAuthenticatorAttachment", "authenticatorAttachment must be platform or cross-platform").WithTarget("authenticatorAttachment")
	}
	user, err := s.activeUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	req, err := s.gate.PreCheck(ctx, userID)
	if err != nil {
		return nil, err
	}
	existing, err := s.store.ListCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(existing))
	for i := range existing {
		exclude = append(exclude, descriptor(&existing[i]))
	}
	conveyance := protocol.ConveyancePreference(req.Attestation)
	if conveyance == "" {
		conveyance = protocol.PreferDirectAttestation
	}
	creation, sd, err := s.wa.BeginRegistration(&waUser{info: user},
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(conveyance),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.AuthenticatorAttachment(opts.Attachment),
			RequireResidentKey:      protocol.ResidentKeyRequired(),
			ResidentKey:             protocol.ResidentKeyRequirementRequired,
			UserVerification:        protocol.VerificationRequired,
		}),
		webauthn.WithCredentialParameters([]protocol.CredentialParameter{{Type: protocol.PublicKeyCredentialType, Algorithm: -7}}),
	)
	if err != nil {
		return nil, err
	}
	raw, err := sd.MarshalMsg(nil)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(sd.Challenge))
	err = s.store.SaveChallenge(ctx, Challenge{Hash: h[:], Kind: KindRegistration, UserID: userID, SessionData: raw,
		Label: strings.TrimSpace(opts.DisplayName), ExpiresAt: s.Now().Add(s.cfg.ChallengeTTL)})
	if err != nil {
		return nil, err
	}
	return creation, nil
}

// Registered is the outcome of a successful registration.
type Registered struct {
	Credential  Credential
	Attestation attestation.Result
}

// FinishRegistration verifies the browser's PublicKeyCredential JSON for the
// user who began the ceremony, asks the gate, and stores the credential.
func (s *Service) FinishRegistration(ctx context.Context, userID string, body []byte) (Registered, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return Registered{}, invalid(CodeMalformedCredential, "the registration response is malformed: %v", protocolDetail(err))
	}
	cd := parsed.Response.CollectedClientData
	ch, sd, err := s.takeSession(ctx, KindRegistration, cd.Challenge)
	if err != nil {
		return Registered{}, err
	}
	if ch.UserID != userID {
		return Registered{}, apperr.Forbidden(CodeUserMismatch, "this registration was begun by another user")
	}
	if err := s.checkClientData(cd, protocol.CreateCeremony); err != nil {
		return Registered{}, err
	}
	ad := &parsed.Response.AttestationObject.AuthData
	if err := s.checkAuthData(ad, true); err != nil {
		return Registered{}, err
	}
	user, err := s.activeUser(ctx, userID)
	if err != nil {
		return Registered{}, err
	}
	libCred, err := s.wa.CreateCredential(&waUser{info: user}, sd, parsed)
	if err != nil {
		return Registered{}, libraryError(err)
	}
	cdHash := sha256.Sum256(parsed.Raw.AttestationResponse.ClientDataJSON)
	report := attestation.Evaluate(parsed.Response.AttestationObject, cdHash[:], s.cfg.Trust, s.Now())

	verdict, err := s.gate.Decide(ctx, userID, NewCredentialFacts{
		AAGUID:         report.AAGUID,
		BackupEligible: ad.Flags.HasBackupEligible(),
		BackupState:    ad.Flags.HasBackupState(),
		Attestation:    report,
	})
	if err != nil {
		return Registered{}, err
	}
	if !verdict.Accepted {
		return Registered{Attestation: report}, &apperr.Error{Kind: apperr.KindForbidden, Code: verdict.Reason, Message: verdict.Message}
	}

	name := ch.Label
	if name == "" {
		name = report.Model
	}
	if name == "" {
		name = "Passkey"
	}
	transports := make([]string, len(libCred.Transport))
	for i, t := range libCred.Transport {
		transports[i] = string(t)
	}
	stored, err := s.store.CreateCredential(ctx, Credential{
		ID:                libCred.ID,
		MethodID:          uuid.NewString(),
		UserID:            userID,
		PublicKey:         libCred.PublicKey,
		AAGUID:            report.AAGUID,
		AttestationFormat: parsed.Response.AttestationObject.Format,
		AttestationType:   report.AttestationType,
		Attestation:       report,
		BackupEligible:    libCred.Flags.BackupEligible,
		BackupState:       libCred.Flags.BackupState,
		UserVerified:      libCred.Flags.UserVerified,
		SignCount:         libCred.Authenticator.SignCount,
		Transports:        transports,
		Attachment:        string(libCred.Authenticator.Attachment),
		DisplayName:       name,
		PasskeyProfileID:  verdict.PasskeyProfileID,
	})
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
			return Registered{}, apperr.Conflict(CodeCredentialExists, "this credential is already registered")
		}
		return Registered{}, err
	}
	return Registered{Credential: stored, Attestation: report}, nil
}

// protocolDetail keeps the library's human detail without its wrapping.
func protocolDetail(err error) string {
	if pe, ok := err.(*protocol.Error); ok && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}
