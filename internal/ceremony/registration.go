package ceremony

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
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
	ctx, span := tracer.Start(ctx, "ceremony.BeginRegistration")
	defer span.End()
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
		webauthn.WithCredentialParameters(s.credParams),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
		webauthn.WithPublicKeyCredentialHints(hints(req.Hints)),
	)
	if err != nil {
		return nil, err
	}
	// go-webauthn derives an authenticatorAttachment from the first hint
	// for browsers that predate hints; a hint must order choices, not
	// remove them (Windows Hello makes device-bound passkeys too), so the
	// attachment stays what the caller asked for.
	creation.Response.AuthenticatorSelection.AuthenticatorAttachment = protocol.AuthenticatorAttachment(opts.Attachment)
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

func hints(hs []string) []protocol.PublicKeyCredentialHints {
	if len(hs) == 0 {
		return nil
	}
	out := make([]protocol.PublicKeyCredentialHints, len(hs))
	for i, h := range hs {
		out[i] = protocol.PublicKeyCredentialHints(h)
	}
	return out
}

// Registered is the outcome of a successful registration.
type Registered struct {
	Credential  Credential
	Attestation attestation.Result
}

// FinishRegistration verifies the browser's PublicKeyCredential JSON for the
// user who began the ceremony, asks the gate, and stores the credential.
func (s *Service) FinishRegistration(ctx context.Context, userID string, body []byte) (Registered, error) {
	ctx, span := tracer.Start(ctx, "ceremony.FinishRegistration")
	defer span.End()
	parsed, err := parseRegistration(body)
	if err != nil {
		return Registered{}, err
	}
	ch, sd, err := s.takeSession(ctx, KindRegistration, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return Registered{}, err
	}
	if ch.UserID != userID {
		return Registered{}, apperr.Forbidden(CodeUserMismatch, "this registration was begun by another user")
	}
	user, err := s.activeUser(ctx, userID)
	if err != nil {
		return Registered{}, err
	}
	v, err := s.verifyRegistration(ctx, parsed, sd, user, judgement{requireUV: true, at: s.Now(), gate: s.gate})
	if err != nil {
		return Registered{Attestation: v.report}, err
	}
	return s.storeRegistration(ctx, user, ch.Label, parsed, v)
}

// Judgement is how JudgeRegistration judges a response: the challenge the
// session would have issued, the user it was issued to, and the moment to
// judge at (certificate validity is evaluated then; a capture is judged as of
// when it was taken).
type Judgement struct {
	Challenge []byte
	User      UserInfo
	At        time.Time
	// RequireUV is what the server always does; false lets a caller judge
	// the attestation of an authenticator that cannot verify its user.
	RequireUV bool
	// Gate is the registration policy (nil: OpenGate).
	Gate RegistrationGate
}

// JudgeRegistration runs a registration response through exactly the checks
// of FinishRegistration (client data, authenticator data, algorithm policy,
// the attestation statement, trust at j.At, the gate), for a session built
// as BeginRegistration would have built it, and stores nothing. It is what
// `rpserver inspect` and the attestation conformance suite call, so they
// cannot disagree with the server.
func (s *Service) JudgeRegistration(ctx context.Context, body []byte, j Judgement) (Registered, error) {
	parsed, err := parseRegistration(body)
	if err != nil {
		return Registered{}, err
	}
	if j.Gate == nil {
		j.Gate = OpenGate{}
	}
	u := &waUser{info: j.User}
	uv := protocol.VerificationRequired
	if !j.RequireUV {
		uv = protocol.VerificationPreferred
	}
	sd := webauthn.SessionData{
		Challenge:        base64.RawURLEncoding.EncodeToString(j.Challenge),
		RelyingPartyID:   s.cfg.RPID,
		UserID:           u.WebAuthnID(),
		UserVerification: uv,
		CredParams:       s.credParams,
		Extensions:       registrationExtensions,
	}
	if parsed.Response.CollectedClientData.Challenge != sd.Challenge {
		// The server looks challenges up by value, so there this is a
		// challenge it never issued.
		return Registered{}, invalid(CodeChallengeNotFound, "clientDataJSON.challenge is not the expected challenge")
	}
	v, err := s.verifyRegistration(ctx, parsed, sd, j.User, judgement{requireUV: j.RequireUV, at: j.At, gate: j.Gate})
	if err != nil {
		return Registered{Attestation: v.report}, err
	}
	return Registered{Credential: s.newCredential(j.User.ID, "", parsed, v), Attestation: v.report}, nil
}

// registrationExtensions are the extensions BeginRegistration requests, as
// the session records them: credProps, so the server learns whether the
// authenticator made a discoverable credential.
var registrationExtensions = protocol.AuthenticationExtensions{CredProps: true}.Session()

// judgement is the per-call part of verifyRegistration.
type judgement struct {
	requireUV bool
	at        time.Time
	gate      RegistrationGate
}

// verified is what verifyRegistration established.
type verified struct {
	lib     *webauthn.Credential
	report  attestation.Result
	verdict Verdict
}

func parseRegistration(body []byte) (*protocol.ParsedCredentialCreationData, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, invalid(CodeMalformedCredential, "the registration response is malformed: %v", protocolDetail(err))
	}
	return parsed, nil
}

// verifyRegistration is the verification core of a registration, free of
// storage: our precise checks with their codes, the library's verification
// (which runs this server's attestation procedures), the trust evaluation at
// j.at, and the gate's decision.
func (s *Service) verifyRegistration(ctx context.Context, parsed *protocol.ParsedCredentialCreationData, sd webauthn.SessionData, user UserInfo, j judgement) (verified, error) {
	var v verified
	if err := s.checkClientData(parsed.Response.CollectedClientData, protocol.CreateCeremony); err != nil {
		return v, err
	}
	att := &parsed.Response.AttestationObject
	ad := &att.AuthData
	if j.requireUV && !ad.Flags.HasUserVerified() && att.Format == "fido-u2f" {
		// A U2F-only key answers every create() with fmt fido-u2f and can
		// never set UV: say so rather than "try again with a PIN".
		return v, invalid(CodeUserVerificationUnsupported, "this security key only speaks FIDO U2F and cannot verify the user (PIN or biometric), which passkeys require; use a FIDO2 security key")
	}
	if err := s.checkAuthData(ad, j.requireUV); err != nil {
		return v, err
	}
	if err := s.checkAlgorithm(ad.AttData.CredentialPublicKey); err != nil {
		return v, err
	}
	lib, err := s.wa.CreateCredential(&waUser{info: user}, sd, parsed)
	if err != nil {
		if reason, ok := attestation.ReasonOf(err); ok {
			v.report = attestation.Result{Format: att.Format, Reason: reason, Message: err.Error()}
		}
		return v, libraryError(err)
	}
	cdHash := sha256.Sum256(parsed.Raw.AttestationResponse.ClientDataJSON)
	v.lib = lib
	v.report = attestation.Evaluate(*att, cdHash[:], s.cfg.Trust, j.at)
	v.verdict, err = j.gate.Decide(ctx, user.ID, NewCredentialFacts{
		AAGUID:         v.report.AAGUID,
		BackupEligible: ad.Flags.HasBackupEligible(),
		BackupState:    ad.Flags.HasBackupState(),
		Attestation:    v.report,
	})
	if err != nil {
		return v, err
	}
	if !v.verdict.Accepted {
		return v, &apperr.Error{Kind: apperr.KindForbidden, Code: v.verdict.Reason, Message: v.verdict.Message}
	}
	return v, nil
}

// newCredential is the credential a verified registration creates.
func (s *Service) newCredential(userID, label string, parsed *protocol.ParsedCredentialCreationData, v verified) Credential {
	name := label
	if name == "" {
		name = v.report.Model
	}
	if name == "" {
		name = "Passkey"
	}
	lib := v.lib
	transports := make([]string, len(lib.Transport))
	for i, t := range lib.Transport {
		transports[i] = string(t)
	}
	return Credential{
		ID:                lib.ID,
		MethodID:          uuid.NewString(),
		UserID:            userID,
		PublicKey:         lib.PublicKey,
		AAGUID:            v.report.AAGUID,
		AttestationFormat: parsed.Response.AttestationObject.Format,
		AttestationType:   v.report.AttestationType,
		Attestation:       v.report,
		BackupEligible:    lib.Flags.BackupEligible,
		BackupState:       lib.Flags.BackupState,
		UserVerified:      lib.Flags.UserVerified,
		SignCount:         lib.Authenticator.SignCount,
		Transports:        transports,
		Attachment:        string(lib.Authenticator.Attachment),
		DisplayName:       name,
		PasskeyProfileID:  v.verdict.PasskeyProfileID,
	}
}

func (s *Service) storeRegistration(ctx context.Context, user UserInfo, label string, parsed *protocol.ParsedCredentialCreationData, v verified) (Registered, error) {
	stored, err := s.store.CreateCredential(ctx, s.newCredential(user.ID, label, parsed, v))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
			return Registered{}, apperr.Conflict(CodeCredentialExists, "this credential is already registered")
		}
		return Registered{}, err
	}
	return Registered{Credential: stored, Attestation: v.report}, nil
}

// protocolDetail keeps the library's human detail without its wrapping.
func protocolDetail(err error) string {
	if pe, ok := err.(*protocol.Error); ok && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}
