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
	return ceremony.Requirements{Attestation: "direct", PasskeyProfileIDs: req.PasskeyProfileIDs, Hints: req.Hints}, nil
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
	return decide(cfg, profiles.Subject{UserID: userID, GroupIDs: groups}, f), nil
}

// decide maps profiles.Decide's decision onto the ceremony's verdict.
func decide(cfg profiles.Fido2AuthenticationMethodConfiguration, subject profiles.Subject, f ceremony.NewCredentialFacts) ceremony.Verdict {
	aaguid, _ := uuid.Parse(f.AAGUID) // unparsable: uuid.Nil, which no allow list holds
	d := cfg.Decide(subject, profiles.Credential{
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
	return v
}

// StaticGate is a ceremony.RegistrationGate over a fixed FIDO2 method
// configuration and a subject with no groups: the same decision as
// Service.Decide without the database, for judging registrations offline
// (`rpserver inspect`, the attestation conformance suite).
type StaticGate struct {
	Config profiles.Fido2AuthenticationMethodConfiguration
}

// OneProfileGate is a StaticGate whose single passkey profile targets all
// users, allows device-bound and synced passkeys, restricts no AAGUID, and
// enforces attestation when enforceAttestation is set.
func OneProfileGate(enforceAttestation bool) StaticGate {
	cfg := profiles.NewFido2Configuration()
	cfg.State = profiles.StateEnabled
	p := profiles.PasskeyProfile{ID: "00000000-0000-0000-0000-000000000001", Name: "inspect",
		PasskeyTypes:           profiles.PasskeyTypesOf(profiles.PasskeyTypeDeviceBound, profiles.PasskeyTypeSynced),
		AttestationEnforcement: profiles.AttestationEnforcementDisabled, KeyRestrictions: cfg.KeyRestrictions}
	if enforceAttestation {
		p.AttestationEnforcement = profiles.AttestationEnforcementRegistrationOnly
	}
	cfg.PasskeyProfiles = []profiles.PasskeyProfile{p}
	cfg.DefaultPasskeyProfile = p.ID
	cfg.IncludeTargets[0].AllowedPasskeyProfiles = []string{p.ID}
	return StaticGate{Config: cfg}
}

// PreCheck implements ceremony.RegistrationGate.
func (g StaticGate) PreCheck(_ context.Context, userID string) (ceremony.Requirements, error) {
	req, refused := g.Config.PreCheck(profiles.Subject{UserID: userID})
	if refused != nil {
		return ceremony.Requirements{}, apperr.Forbidden(string(refused.Reason), "%s", refused.Message)
	}
	return ceremony.Requirements{Attestation: "direct", PasskeyProfileIDs: req.PasskeyProfileIDs, Hints: req.Hints}, nil
}

// Decide implements ceremony.RegistrationGate.
func (g StaticGate) Decide(_ context.Context, userID string, f ceremony.NewCredentialFacts) (ceremony.Verdict, error) {
	return decide(g.Config, profiles.Subject{UserID: userID}, f), nil
}
