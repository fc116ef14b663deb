package signin

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"

	"github.com/rpserver/rpserver/internal/methods/campaign"
	"github.com/rpserver/rpserver/internal/methods/targeting"
)

// CampaignSource decides the registration campaign's interrupt
// (methods.Service). Its copy of the campaign is cached, so a sign-in when
// the campaign is off or the user is not targeted costs no round trip.
type CampaignSource interface {
	RegistrationNudge(ctx context.Context, subject targeting.Subject, hasPush bool) (*campaign.Nudge, error)
	SnoozeCampaign(ctx context.Context, subject targeting.Subject, hasPush bool) (campaign.Nudge, error)
}

// SnoozeRegistrationCampaign skips the campaign's interrupt for the
// signed-in user (POST /signin/registrationCampaign/snooze), judged on the
// same facts a sign-in reads.
func (s *Service) SnoozeRegistrationCampaign(ctx context.Context, userID string) (campaign.Nudge, error) {
	if s.d.Campaign == nil {
		return campaign.Nudge{}, apperr.Conflict("registrationCampaignNotApplicable", "the registration campaign is not configured")
	}
	facts, err := s.d.Factors.SignInFacts(ctx, userID)
	if err != nil {
		return campaign.Nudge{}, err
	}
	return s.d.Campaign.SnoozeCampaign(ctx, targeting.Subject{UserID: userID, GroupIDs: facts.GroupIDs}, facts.HasPush)
}

// registrationNudge is the interrupt a completed sign-in carries, and the
// sign-in record's additionalDetails saying so. A campaign that cannot be
// read never fails a sign-in: the nudge is skipped.
func (s *Service) registrationNudge(ctx context.Context, facts *Facts) (*campaign.Nudge, string) {
	if s.d.Campaign == nil {
		return nil, ""
	}
	n, err := s.d.Campaign.RegistrationNudge(ctx, targeting.Subject{UserID: facts.UserID, GroupIDs: facts.GroupIDs}, facts.HasPush)
	if err != nil || n == nil {
		return nil, ""
	}
	detail := "Registration campaign: the user was asked to set up " + n.TargetedAuthenticationMethod
	if !n.CanSnooze {
		detail += " (no snoozes left)"
	}
	return n, detail
}
