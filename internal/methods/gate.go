package methods

import (
	"context"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/profiles"
)

// PreCheck implements ceremony.RegistrationGate: a user the policy does not
// let register is refused before a challenge is issued.
func (s *Service) PreCheck(ctx context.Context, userID string) (ceremony.Requirements, error) {
	cfg, configured, err := s.Fido2Config(ctx)
	if err != nil {
		return ceremony.Requirements{}, err
	}
	if !configured {
		return ceremony.OpenGate{}.PreCheck(ctx, userID)
	}
	groups, err := s.groups(ctx, userID)
	if err != nil {
		return ceremony.Requirements{}, err
	}
	req, refused := cfg.PreCheck(profiles.Subject{UserID: userID, GroupIDs: groups})
	if refused != nil {
		return ceremony.Requirements{}, apperr.Forbidden(string(refused.Reason), "%s", refused.Message)
	}
	// Direct attestation always: every passkey gets an attestation report
	// (attestationLevel), whether or not a profile enforces it.
	return ceremony.Requirements{Attestation: "direct", PasskeyProfileIDs: req.PasskeyProfileIDs}, nil
}

// Decide implements ceremony.RegistrationGate with profiles.Decide.
func (s *Service) Decide(ctx context.Context, userID string, f ceremony.NewCredentialFacts) (ceremony.Verdict, error) {
	cfg, configured, err := s.Fido2Config(ctx)
	if err != nil {
		return ceremony.Verdict{}, err
	}
	if !configured {
		return ceremony.OpenGate{}.Decide(ctx, userID, f)
	}
	groups, err := s.groups(ctx, userID)
	if err != nil {
		return ceremony.Verdict{}, err
	}
	aaguid, _ := uuid.Parse(f.AAGUID) // unparsable: uuid.Nil, which no allow list holds
	d := cfg.Decide(profiles.Subject{UserID: userID, GroupIDs: groups}, profiles.Credential{
		AAGUID:         aaguid,
		BackupEligible: f.BackupEligible,
		BackupState:    f.BackupState,
		Attestation: profiles.AttestationVerdict{
			Format:   f.Attestation.Format,
			Attested: f.Attestation.Attested,
			Trusted:  f.Attestation.Trusted,
			Reason:   f.Attestation.Reason,
		},
	})
	v := ceremony.Verdict{Accepted: d.Accepted, Reason: string(d.Reason), Message: d.Message, PasskeyProfileID: d.PasskeyProfileID}
	if !d.Accepted && d.AttestationReason != "" && (d.Reason == profiles.ReasonAttestationRequired || d.Reason == profiles.ReasonAttestationUntrusted) {
		v.Message += " (" + d.AttestationReason + ")"
	}
	return v, nil
}
