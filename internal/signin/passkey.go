package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/useragent"
)

// PasskeyOptionsRequest starts a passkey sign-in: within a flow from Begin
// (the options name the flow user's passkeys), or on its own for a user
// name, or with neither for a discoverable credential.
type PasskeyOptionsRequest struct {
	FlowToken         string
	UserPrincipalName string
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
	return s.d.Ceremony.BeginLogin(ctx, upn)
}

// PasskeyRequest finishes a passkey sign-in with the browser's
// PublicKeyCredential JSON, within a flow (the passkey must be the flow
// user's) or on its own (a fresh flow for the lab portal).
type PasskeyRequest struct {
	FlowToken  string // optional
	Credential []byte
	IP         string
	// UserAgent is the client's, for a passkey sign-in on its own (within
	// a flow the flow's is kept).
	UserAgent string
	// Attempt, when set, is the failure limiter's attempt of the caller:
	// it is reserved in the statement that takes the challenge (no round
	// trip of its own), before anything is checked; the caller settles it.
	Attempt *ratelimit.Attempt
}

// Passkey verifies the assertion (internal/ceremony: challenge, signature,
// counter), then runs Conditional Access, issues the session and logs the
// sign-in. Within a flow a failed ceremony is logged as a failed step.
func (s *Service) Passkey(ctx context.Context, req PasskeyRequest) (Outcome, error) {
	ctx, span := tracer.Start(ctx, "signin.Passkey")
	defer span.End()
	if req.FlowToken == "" {
		return s.passkeyAlone(ctx, req)
	}
	f, err := s.readFlow(req.FlowToken)
	if err != nil {
		return Outcome{}, err
	}
	res, pre, use, err := s.verifyPasskey(ctx, req.Credential, req.Attempt)
	if e, ok := apperr.As(err); ok && e.Code == ratelimit.CodeTooManyFailures {
		return Outcome{}, err // refused unchecked: not a failed step
	}
	if err != nil {
		return s.fail(ctx, f, policy.ModeFido2, err, errInvalidCredentials)
	}
	if res.User.ID != f.UserID {
		return Outcome{}, apperr.Forbidden(CodeWrongUser, "this passkey belongs to another account than the one signing in")
	}
	f.Steps = append(f.Steps, passkeyStep(res.Credential, s.d.Now()))
	return s.decide(ctx, f, &pre.Facts, prefetched{policyVersion: &pre.PolicyVersion, use: use})
}

// passkeyAlone is a complete passkey sign-in to the lab portal (the
// discoverable or UPN-first /webauthn/authentication/finish, the hot path)
// in two database round trips: one takes the challenge and reads
// everything the decision needs (the credential, its owner's sign-in
// facts, the policy version); then, without I/O, the assertion is verified
// and Conditional Access evaluated; the second commits the credential's
// counter together with the sign-in record (the log's group commit), and
// only then is the session answered.
//
// While this server holds copies of everything the decision reads (the
// passkey, its owner's facts, the compiled policies) and the failure
// limiter can reserve the attempt in the process, the first round trip is
// left out too (passkeyFromCopies).
func (s *Service) passkeyAlone(ctx context.Context, req PasskeyRequest) (Outcome, error) {
	a, err := s.parseAssertion(ctx, req.Credential, req.Attempt)
	if err != nil {
		return Outcome{}, err
	}
	if out, decided, err := s.passkeyFromCopies(ctx, req, a); decided {
		return out, err
	}
	res, pre, use, err := s.verifyParsed(ctx, a, req.Attempt)
	if err != nil {
		return Outcome{}, err
	}
	f := s.newFlow(res.User.ID, req.IP, req.UserAgent)
	f.Steps = append(f.Steps, passkeyStep(res.Credential, s.d.Now()))
	return s.decide(ctx, f, &pre.Facts, prefetched{policyVersion: &pre.PolicyVersion, use: use})
}

// verifyPasskey is the first round trip and the verification: it takes
// the challenge with the credential, its owner's facts and the policy
// version (reserving att's attempt in the same statement), and verifies
// the assertion; the returned use is committed with the sign-in's record
// (only checked there when it changes nothing: ceremony.Use.Unchanged).
// A counter that did not grow marks the passkey.
func (s *Service) verifyPasskey(ctx context.Context, credential []byte, att *ratelimit.Attempt) (ceremony.LoginResult, PasskeyAssertion, *signinlog.CredentialUse, error) {
	a, err := s.parseAssertion(ctx, credential, att)
	if err != nil {
		return ceremony.LoginResult{}, PasskeyAssertion{}, nil, err
	}
	return s.verifyParsed(ctx, a, att)
}

// parseAssertion reads the browser's credential and opens its challenge's
// seal; a malformed one still reserves att's attempt (a statement of its
// own), so it counts as a failure.
func (s *Service) parseAssertion(ctx context.Context, credential []byte, att *ratelimit.Attempt) (*ceremony.Assertion, error) {
	a, err := s.d.Ceremony.ParseAssertion(credential)
	if err != nil {
		if rerr := att.Reserve(ctx); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return a, nil
}

// verifyParsed is verifyPasskey on a parsed assertion.
func (s *Service) verifyParsed(ctx context.Context, a *ceremony.Assertion, att *ratelimit.Attempt) (ceremony.LoginResult, PasskeyAssertion, *signinlog.CredentialUse, error) {
	claim, reserve := att.Claim()
	var cp *ratelimit.Claim
	if reserve {
		cp = &claim
	}
	pre, err := s.d.Factors.TakePasskeyAssertion(ctx, a.Challenge, a.CredentialID, cp)
	if reserve {
		// Before anything is checked: a refused attempt goes no further.
		if lerr := att.Answer(ctx, claim, pre.Grant); lerr != nil {
			return ceremony.LoginResult{}, pre, nil, lerr
		}
	}
	if err != nil {
		return ceremony.LoginResult{}, pre, nil, ceremony.ChallengeError(err)
	}
	user := userInfo(&pre.Facts)
	res, use, err := s.d.Ceremony.Verify(a, pre.Challenge, pre.Credential, user)
	if e, ok := apperr.As(err); ok && e.Code == ceremony.CodeSignCountRegression {
		if merr := s.d.Ceremony.MarkCloneSuspected(ctx, pre.Credential.ID); merr != nil {
			return res, pre, nil, merr
		}
	}
	if err != nil {
		return res, pre, nil, err
	}
	return res, pre, credentialUse(use), nil
}

func userInfo(f *Facts) ceremony.UserInfo {
	return ceremony.UserInfo{ID: f.UserID, Name: f.UserPrincipalName, DisplayName: f.DisplayName, Enabled: f.Enabled}
}

// credentialUse is the use the log's commit stores (only checks, when it
// changes nothing).
func credentialUse(use ceremony.Use) *signinlog.CredentialUse {
	return &signinlog.CredentialUse{CredentialID: use.CredentialID, SignCount: use.SignCount, BackupState: use.BackupState, At: use.At,
		CheckOnly: use.Unchanged}
}

// AssertionPeeker is a FactsStore that can answer TakePasskeyAssertion
// from this server's copies, without I/O (store.Factors): the passkey,
// its owner's facts and the version of the facts (ok false: no copy).
type AssertionPeeker interface {
	PeekPasskeyAssertion(challenge ceremony.Challenge, credentialID []byte, now time.Time) (a PasskeyAssertion, factsVersion int64, ok bool)
}

// CachedPolicySource is a PolicySource that tells the version of the
// policies it holds compiled, without a query.
type CachedPolicySource interface {
	CachedVersion() (version int64, ok bool)
}

// passkeyFromCopies is passkeyAlone in one round trip, the log's commit:
// the passkey, its owner's facts and the policies come from this server's
// copies, the failure limiter's attempt is reserved in the process
// (ratelimit.Attempt.Recycle), and the challenge is taken in the commit of
// the record, which stores it only if the challenge is unused, its epoch
// current, and the facts and policies still at the versions decided on
// (signinlog.ChallengeClaim). Anything else is decided the long way
// (decided false): no copy, a disabled owner, an assertion that does not
// verify against the copy (a replay, a counter behind, a bad signature:
// only the take can tell which), or a claim refused at the commit, which
// stored nothing and left the challenge untaken.
func (s *Service) passkeyFromCopies(ctx context.Context, req PasskeyRequest, a *ceremony.Assertion) (out Outcome, decided bool, err error) {
	peeker, ok := s.d.Factors.(AssertionPeeker)
	if !ok {
		return Outcome{}, false, nil
	}
	cached, ok := s.d.Policies.(CachedPolicySource)
	if !ok {
		return Outcome{}, false, nil
	}
	policyVersion, ok := cached.CachedVersion()
	if !ok {
		return Outcome{}, false, nil
	}
	pre, factsVersion, ok := peeker.PeekPasskeyAssertion(a.Challenge, a.CredentialID, s.d.Now())
	if !ok || !pre.Facts.Enabled || !req.Attempt.Recycle() {
		return Outcome{}, false, nil
	}
	user := userInfo(&pre.Facts)
	res, use, err := s.d.Ceremony.Verify(a, pre.Challenge, pre.Credential, user)
	if err != nil {
		return Outcome{}, false, nil
	}
	cu := credentialUse(use)
	cu.Claim = &signinlog.ChallengeClaim{Nonce: a.Challenge.Hash, ExpiresAt: a.Challenge.ExpiresAt, Epoch: a.Challenge.Epoch,
		FactsVersion: factsVersion, PolicyVersion: policyVersion}
	f := s.newFlow(res.User.ID, req.IP, req.UserAgent)
	f.Steps = append(f.Steps, passkeyStep(res.Credential, s.d.Now()))
	out, err = s.decide(ctx, f, &pre.Facts, prefetched{policyVersion: &policyVersion, use: cu})
	if errors.Is(err, signinlog.ErrClaimRefused) {
		s.claimsRefused.Add(1)
		return Outcome{}, false, nil
	}
	s.fromCopies.Add(1)
	return out, true, err
}

// useRefused is the answer when the commit of a passkey's use and its
// record failed: a counter that no longer advanced (another sign-in with
// the same counter won the race) marks the passkey like any regression;
// anything else means nothing was stored, so the sign-in did not happen.
func (s *Service) useRefused(ctx context.Context, use *signinlog.CredentialUse, err error) error {
	if errors.Is(err, signinlog.ErrCounterNotAdvanced) {
		if merr := s.d.Ceremony.MarkCloneSuspected(ctx, use.CredentialID); merr != nil {
			return merr
		}
		return ceremony.CounterRegression(use.SignCount, use.SignCount)
	}
	return fmt.Errorf("sign-in log: %w", err)
}

// VersionedPolicySource is a PolicySource that can answer for a policy
// version the caller already read, sparing the version query.
type VersionedPolicySource interface {
	CompiledAt(ctx context.Context, version int64) (*policy.CompiledPolicies, error)
}

// policies returns the compiled Conditional Access policies, at least as
// new as version when it is known.
func (s *Service) policies(ctx context.Context, version *int64) (*policy.CompiledPolicies, error) {
	if vs, ok := s.d.Policies.(VersionedPolicySource); ok && version != nil {
		return vs.CompiledAt(ctx, *version)
	}
	return s.d.Policies.Compiled(ctx)
}

func passkeyStep(c ceremony.Credential, at time.Time) Step {
	detail := "Passkey (device-bound)"
	if c.BackupEligible {
		detail = "Passkey (synced)"
	}
	if c.Attestation.Model != "" {
		detail += ", " + c.Attestation.Model
	}
	return Step{Mode: policy.ModeFido2, AAGUID: c.AAGUID, Detail: detail, At: at}
}

// newFlow is the flow of a sign-in that did not go through Begin (a
// passkey or a TAP on its own): the lab portal, from a browser.
func (s *Service) newFlow(userID, ip, userAgent string) *flow {
	return &flow{UserID: userID, AppID: DefaultApplicationID, ClientAppType: "browser", IP: ip, UserAgent: useragent.Truncate(userAgent), CorrelationID: uuid.NewString()}
}
