package signin

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/policy"
)

// PushChallenge is what the sign-in screen shows while the phone is asked.
type PushChallenge struct {
	PushRequestID string    `json:"pushRequestId"`
	NumberMatch   int       `json:"numberMatch"`
	ExpiresAt     time.Time `json:"expiresDateTime"`
}

// PushBegin sends a push to the user's Authenticator.
func (s *Service) PushBegin(ctx context.Context, flowToken string) (PushChallenge, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return PushChallenge{}, err
	}
	if err := requirePrimary(f); err != nil {
		return PushChallenge{}, err
	}
	devices, err := s.d.Factors.ListPushMethods(ctx, f.UserID)
	if err != nil {
		return PushChallenge{}, err
	}
	if len(devices) == 0 {
		return PushChallenge{}, apperr.Invalid(CodeNoSuchMethod, "the user has no Microsoft Authenticator (push) method")
	}
	r := PushRequest{ID: uuid.NewString(), UserID: f.UserID, NumberMatch: push.NumberMatch(), AppName: Applications[f.AppID], ExpiresAt: s.d.Now().Add(2 * time.Minute)}
	if err := s.d.Factors.CreatePushRequest(ctx, r); err != nil {
		return PushChallenge{}, err
	}
	return PushChallenge{PushRequestID: r.ID, NumberMatch: r.NumberMatch, ExpiresAt: r.ExpiresAt}, nil
}

// PushComplete finishes the push step once the phone answered.
func (s *Service) PushComplete(ctx context.Context, flowToken, pushRequestID string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	if !ids.Valid(pushRequestID) {
		return Outcome{}, apperr.Invalid("invalidId", "pushRequestId is not a valid id").WithTarget("pushRequestId")
	}
	r, err := s.d.Factors.TakePushRequest(ctx, pushRequestID, f.UserID)
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case r.Status == "pending" && s.d.Now().After(r.ExpiresAt):
		return s.fail(ctx, f, policy.ModeMicrosoftAuthenticatorPush, apperr.Unauthenticated(CodePushExpired, "the push was not answered in time"), errMFAFailed)
	case r.Status == "pending":
		return Outcome{}, apperr.Conflict(CodePushPending, "the phone has not answered yet; try again in a moment")
	case r.Status == "denied":
		return s.fail(ctx, f, policy.ModeMicrosoftAuthenticatorPush, apperr.Unauthenticated(CodePushDenied, "the sign-in was denied on the phone"), errMFAFailed)
	}
	f.Steps = append(f.Steps, Step{Mode: policy.ModeMicrosoftAuthenticatorPush, At: s.d.Now()})
	return s.advance(ctx, f)
}

// PendingPush is a notification on the phone: which sign-in asks. The
// number is not in it: the user reads it on the sign-in screen and types it,
// which is what number matching is for.
type PendingPush struct {
	PushRequestID   string    `json:"pushRequestId"`
	ApplicationName string    `json:"applicationName"`
	ExpiresDateTime time.Time `json:"expiresDateTime"`
}

// PendingPushes lists the pushes awaiting the phone whose device token is
// given, oldest first.
func (s *Service) PendingPushes(ctx context.Context, deviceToken string) ([]PendingPush, error) {
	sum := sha256.Sum256([]byte(deviceToken))
	dev, err := s.d.Factors.PushMethodByToken(ctx, sum[:])
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return nil, apperr.Unauthenticated("invalidDeviceToken", "unknown device token")
		}
		return nil, err
	}
	reqs, err := s.d.Factors.PendingPushRequests(ctx, dev.UserID, s.d.Now())
	if err != nil {
		return nil, err
	}
	out := make([]PendingPush, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, PendingPush{PushRequestID: r.ID, ApplicationName: r.AppName, ExpiresDateTime: r.ExpiresAt})
	}
	return out, nil
}

// ApprovePush is the phone's answer (the API call standing in for the
// Authenticator app): the device token proves which phone it is, the number
// typed must match the one on the sign-in screen.
func (s *Service) ApprovePush(ctx context.Context, deviceToken, pushRequestID string, number int, approve bool) error {
	sum := sha256.Sum256([]byte(deviceToken))
	dev, err := s.d.Factors.PushMethodByToken(ctx, sum[:])
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return apperr.Unauthenticated("invalidDeviceToken", "unknown device token")
		}
		return err
	}
	if !ids.Valid(pushRequestID) {
		return apperr.Invalid("invalidId", "pushRequestId is not a valid id").WithTarget("pushRequestId")
	}
	if approve {
		r, err := s.d.Factors.TakePushRequest(ctx, pushRequestID, dev.UserID)
		if err != nil {
			return err
		}
		if r.NumberMatch != number {
			// A wrong number denies the request: guessing is not an option.
			_, _ = s.d.Factors.DecidePushRequest(ctx, pushRequestID, dev.UserID, false, s.d.Now())
			return apperr.Invalid(CodePushNumberMismatch, "the number does not match the one shown on the sign-in screen; the request is denied")
		}
	}
	ok, err := s.d.Factors.DecidePushRequest(ctx, pushRequestID, dev.UserID, approve, s.d.Now())
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Conflict(CodePushExpired, "this push request is no longer pending (answered or expired)")
	}
	return nil
}
