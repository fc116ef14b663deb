package signin

import (
	"context"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/policy"
)

// PasskeyOptionsRequest starts a passkey sign-in: within a flow from Begin
// (the options name the flow user's passkeys), or on its own for a user
// name, or with neither for a discoverable credential.
type PasskeyOptionsRequest struct {
	FlowToken         string
	UserPrincipalName string
	// IP is the caller's address: nobody is signed in yet, so the
	// ceremonies one address may hold unfinished are bounded by it.
	IP string
}

// PasskeyOptions returns the WebAuthn request options for the passkey
// step (the JSON navigator.credentials.get takes).
func (s *Service) PasskeyOptions(ctx context.Context, req PasskeyOptionsRequest) (*protocol.CredentialAssertion, error) {
	upn := req.UserPrincipalName
	if req.FlowToken != "" {
		f, err := s.readFlow(req.FlowToken)
		if err != nil {
			return nil, err
		}
		facts, err := s.d.Factors.SignInFacts(ctx, f.UserID)
		if err != nil {
			return nil, err
		}
		upn = facts.UserPrincipalName
	}
	return s.d.Ceremony.BeginLogin(ctx, upn, req.IP)
}

// PasskeyRequest finishes a passkey sign-in with the browser's
// PublicKeyCredential JSON, within a flow (the passkey must be the flow
// user's) or on its own (a fresh flow for the lab portal).
type PasskeyRequest struct {
	FlowToken  string // optional
	Credential []byte
	IP         string
}

// Passkey verifies the assertion (internal/ceremony: challenge, signature,
// counter), then runs Conditional Access, issues the session and logs the
// sign-in. Within a flow a failed ceremony is logged as a failed step.
func (s *Service) Passkey(ctx context.Context, req PasskeyRequest) (Outcome, error) {
	if req.FlowToken == "" {
		res, err := s.d.Ceremony.FinishLogin(ctx, req.Credential)
		if err != nil {
			return Outcome{}, err
		}
		f := s.newFlow(res.User.ID, req.IP)
		f.Steps = append(f.Steps, passkeyStep(res.Credential, s.d.Now()))
		return s.advance(ctx, f)
	}
	f, err := s.readFlow(req.FlowToken)
	if err != nil {
		return Outcome{}, err
	}
	res, err := s.d.Ceremony.FinishLogin(ctx, req.Credential)
	if err != nil {
		return s.fail(ctx, f, policy.ModeFido2.String(), err, errInvalidPassword)
	}
	if res.User.ID != f.UserID {
		return Outcome{}, apperr.Forbidden(CodeWrongUser, "this passkey belongs to another account than the one signing in")
	}
	f.Steps = append(f.Steps, passkeyStep(res.Credential, s.d.Now()))
	return s.advance(ctx, f)
}

func passkeyStep(c ceremony.Credential, at time.Time) Step {
	detail := "Passkey (device-bound)"
	if c.BackupEligible {
		detail = "Passkey (synced)"
	}
	if c.Attestation.Model != "" {
		detail += ", " + c.Attestation.Model
	}
	return Step{Mode: policy.ModeFido2.String(), AAGUID: c.AAGUID, Detail: detail, At: at}
}

// newFlow is the flow of a sign-in that did not go through Begin (a
// passkey or a TAP on its own): the lab portal, from a browser.
func (s *Service) newFlow(userID, ip string) *flow {
	return &flow{UserID: userID, AppID: DefaultApplicationID, ClientAppType: "browser", IP: ip, CorrelationID: uuid.NewString()}
}
