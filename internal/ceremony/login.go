package ceremony

import (
	"context"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rpserver/rpserver/internal/apperr"
)

// BeginLogin returns the options for navigator.credentials.get. With a UPN
// the user's passkeys are listed in allowCredentials; without one (or for an
// unknown UPN or a user without passkeys, so the response does not reveal
// which accounts exist) the ceremony is discoverable: the authenticator
// picks the passkey and returns its user handle.
//
// It is one read-only database round trip (the allow list: credential ids
// and transports only, and the challenge epoch) and stores nothing: the
// challenge is sealed (seal.go), carrying its expiry and the user it was
// begun for, so an anonymous caller's begins cost no storage to bound.
func (s *Service) BeginLogin(ctx context.Context, upn string) (*protocol.CredentialAssertion, error) {
	ctx, span := tracer.Start(ctx, "ceremony.BeginLogin")
	defer span.End()
	allow, err := s.store.AllowList(ctx, upn)
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal.seal(s.Now().Add(s.cfg.ChallengeTTL), allow.Epoch, allow.UserID)
	if err != nil {
		return nil, err
	}
	list := make([]protocol.CredentialDescriptor, len(allow.Credentials))
	for i, r := range allow.Credentials {
		list[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: r.ID}
		for _, t := range r.Transports {
			list[i].Transport = append(list[i].Transport, protocol.AuthenticatorTransport(t))
		}
	}
	assertion, _, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired),
		webauthn.WithChallenge(protocol.URLEncodedBase64(sealed)), webauthn.WithAllowedCredentials(list))
	if err != nil {
		return nil, err
	}
	return assertion, nil
}

// assertionSession rebuilds the library's session of a sign-in from its
// opened seal: the challenge itself, the user the ceremony was begun for,
// required user verification and the expiry.
func (s *Service) assertionSession(c Challenge, challenge string) (webauthn.SessionData, error) {
	if !s.Now().Before(c.ExpiresAt) {
		return webauthn.SessionData{}, invalid(CodeChallengeExpired, "the challenge expired at %s; begin the ceremony again", c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	sd := webauthn.SessionData{Challenge: challenge, RelyingPartyID: s.cfg.RPID, UserVerification: protocol.VerificationRequired, Expires: c.ExpiresAt}
	if c.UserID != "" {
		sd.UserID = (&waUser{info: UserInfo{ID: c.UserID}}).WebAuthnID()
	}
	return sd, nil
}

// LoginResult is a verified sign-in.
type LoginResult struct {
	User       UserInfo
	Credential Credential
}

// Assertion is a parsed sign-in response, before any I/O: its challenge
// is opened from its seal (a forged, foreign or expired one is refused
// here, without a round trip); the caller takes it (records it used) and
// loads its credential (CredentialID), then hands them to Verify.
type Assertion struct {
	parsed       *protocol.ParsedCredentialAssertionData
	Challenge    Challenge
	CredentialID []byte
}

// ParseAssertion reads the browser's PublicKeyCredential JSON and opens
// the challenge it echoes.
func (s *Service) ParseAssertion(body []byte) (*Assertion, error) {
	var parsed *protocol.ParsedCredentialAssertionData
	var err error
	if car, ok := decodeAssertionJSON(body); ok {
		parsed, err = car.Parse()
	} else {
		parsed, err = protocol.ParseCredentialRequestResponseBytes(body)
	}
	if err != nil {
		return nil, invalid(CodeMalformedCredential, "the sign-in response is malformed: %v", protocolDetail(err))
	}
	sc, ok := s.seal.open(parsed.Response.CollectedClientData.Challenge)
	if !ok {
		return nil, invalid(CodeChallengeNotFound, "the challenge was never issued by this tenant; begin the ceremony again")
	}
	now := s.Now()
	if !now.Before(sc.expiresAt) {
		return nil, invalid(CodeChallengeExpired, "the challenge expired at %s; begin the ceremony again", sc.expiresAt.UTC().Format(time.RFC3339))
	}
	if sc.expiresAt.After(now.Add(s.cfg.ChallengeTTL + time.Minute)) {
		// Sealed by a server whose clock runs far ahead: it would live for
		// as long as that clock is ahead, not ChallengeTTL.
		return nil, invalid(CodeChallengeNotFound, "the challenge expires later than this server issues challenges (are the servers' clocks apart?); begin the ceremony again")
	}
	ch := Challenge{Hash: sc.nonce, Kind: KindAuthentication, UserID: sc.userID, ExpiresAt: sc.expiresAt, Epoch: sc.epoch}
	return &Assertion{parsed: parsed, Challenge: ch, CredentialID: parsed.RawID}, nil
}

// Use is what a verified assertion changes on its credential: the caller
// stores it with a conditional update (the counter must still grow, or
// stay 0 for authenticators without one), atomically with the sign-in.
type Use struct {
	CredentialID []byte
	SignCount    uint32
	BackupState  bool
	At           time.Time
	// Unchanged: the use changes nothing worth a write, by the credential
	// as it was read (an authenticator without a counter, 0 before and
	// after; the same backup state; a last use under UseRefresh old and
	// not ahead of this server's clock), so the caller need not rewrite
	// the credential: it only checks, with the sign-in's record, that the
	// credential is still there, unflagged and without a counter.
	Unchanged bool
}

// UseRefresh is how stale a credential's last use may grow before an
// unchanged use writes it again: lastUsedDateTime of a passkey without a
// counter is at most this far behind (the store's conditional update
// uses the same interval).
const UseRefresh = time.Minute

// Verify checks an assertion against its taken challenge and the
// credential it claims (nil: not registered) with its owner, without I/O.
// On success it returns the sign-in and the credential use to store. A
// counter that did not grow returns CodeSignCountRegression; the caller
// then marks the credential (MarkCloneSuspected).
func (s *Service) Verify(a *Assertion, ch Challenge, cred *Credential, user UserInfo) (LoginResult, Use, error) {
	sd, err := s.assertionSession(ch, a.parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return LoginResult{}, Use{}, err
	}
	if cred == nil {
		return LoginResult{}, Use{}, unauthenticated(CodeUnknownCredential, "this passkey is not registered here (it may have been deleted)")
	}
	if !user.Enabled {
		return LoginResult{}, Use{}, apperr.Forbidden(CodeUserDisabled, "the account is disabled")
	}
	c := *cred
	if err := s.verifyAssertion(a.parsed, ch.UserID, sd, &c, user); err != nil {
		return LoginResult{}, Use{}, err
	}
	ad := &a.parsed.Response.AuthenticatorData
	if !counterAdvances(c.SignCount, ad.Counter) {
		return LoginResult{}, Use{}, counterRegression(c.SignCount, ad.Counter)
	}
	now := s.Now()
	use := Use{CredentialID: c.ID, SignCount: ad.Counter, BackupState: ad.Flags.HasBackupState(), At: now}
	// A last use ahead of this clock (written by a server whose clock runs
	// ahead) is rewritten, or it would stand until real time passed it.
	use.Unchanged = c.SignCount == 0 && ad.Counter == 0 && c.BackupState == use.BackupState &&
		c.LastUsedAt != nil && !c.LastUsedAt.Before(now.Add(-UseRefresh)) && !c.LastUsedAt.After(now)
	c.SignCount, c.BackupState, c.LastUsedAt = ad.Counter, use.BackupState, &now
	return LoginResult{User: user, Credential: c}, use, nil
}

// counterAdvances is the clone rule: the counter must grow, unless the
// authenticator has none (0 before and after, as synced passkeys report).
func counterAdvances(stored, presented uint32) bool {
	return stored < presented || (stored == 0 && presented == 0)
}

// CounterRegression is the refusal of an assertion whose counter did not
// grow; exported so a caller whose conditional update lost a race reports
// the same code.
func CounterRegression(stored, presented uint32) error { return counterRegression(stored, presented) }

func counterRegression(stored, presented uint32) error {
	return unauthenticated(CodeSignCountRegression, "the signature counter went from %d to %d: the passkey may have been cloned, so it is now blocked", stored, presented)
}

// FinishLogin verifies an assertion (the browser's PublicKeyCredential JSON)
// and advances the credential's counter on its own: two database round
// trips, one to take (record as used) the challenge with the credential
// and its owner, one for the counter. The passkey sign-in of internal/signin does not use it:
// it takes the challenge together with everything its decision needs and
// commits the counter with the sign-in log record.
func (s *Service) FinishLogin(ctx context.Context, body []byte) (LoginResult, error) {
	ctx, span := tracer.Start(ctx, "ceremony.FinishLogin")
	defer span.End()
	a, err := s.ParseAssertion(body)
	if err != nil {
		return LoginResult{}, err
	}
	ch := a.Challenge
	credp, userp, err := s.store.TakeAssertionChallenge(ctx, ch, a.CredentialID)
	if err != nil {
		return LoginResult{}, challengeError(err)
	}
	var user UserInfo
	if userp != nil {
		user = *userp
	}
	res, use, err := s.Verify(a, ch, credp, user)
	if e, ok := apperr.As(err); ok && e.Code == CodeSignCountRegression {
		if merr := s.store.MarkCloneSuspected(ctx, credp.ID); merr != nil {
			return LoginResult{}, merr
		}
		return LoginResult{}, err
	}
	if err != nil {
		return LoginResult{}, err
	}
	ok, err := s.store.RecordUse(ctx, use.CredentialID, use.SignCount, use.BackupState, use.At)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		// Another sign-in with the same counter won the conditional update.
		if err := s.store.MarkCloneSuspected(ctx, use.CredentialID); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, counterRegression(credp.SignCount, use.SignCount)
	}
	return res, nil
}

// ChallengeError maps a store's "no such challenge" to its stable code.
func ChallengeError(err error) error { return challengeError(err) }

// verifyAssertion is the verification core of a sign-in, free of I/O: the
// precise checks with their codes, then the library's full verification
// including the signature. sessionUserID is the user the ceremony was begun
// for ("" for discoverable).
func (s *Service) verifyAssertion(parsed *protocol.ParsedCredentialAssertionData, sessionUserID string, sd webauthn.SessionData, cred *Credential, user UserInfo) error {
	if err := s.checkClientData(parsed.Response.CollectedClientData, protocol.AssertCeremony); err != nil {
		return err
	}
	ad := &parsed.Response.AuthenticatorData
	if err := s.checkAuthData(ad, sd.UserVerification == protocol.VerificationRequired); err != nil {
		return err
	}
	if sessionUserID != "" && cred.UserID != sessionUserID {
		return unauthenticated(CodeCredentialNotAllowed, "this passkey belongs to another account than the one signing in")
	}
	if h := parsed.Response.UserHandle; len(h) > 0 && userIDFromHandle(h) != cred.UserID {
		return unauthenticated(CodeUserHandleMismatch, "the user handle does not match the passkey's owner")
	}
	if cred.CloneSuspected {
		return unauthenticated(CodeCloneSuspected, "this passkey was flagged as possibly cloned; an administrator must review and delete it")
	}
	if cred.BackupEligible != ad.Flags.HasBackupEligible() {
		return unauthenticated(CodeBackupEligibilityChange, "the passkey's backup eligibility (BE) changed since registration")
	}
	// Ownership and the allow list were checked above against the stored
	// credential, so the library need not see the user's other credentials.
	sd.AllowedCredentialIDs = nil
	owner := &waUser{info: user, creds: []webauthn.Credential{toLibrary(cred)}}
	var err error
	if sessionUserID == "" {
		_, err = s.wa.ValidateDiscoverableLogin(func(_, _ []byte) (webauthn.User, error) { return owner, nil }, sd, parsed)
	} else {
		_, err = s.wa.ValidateLogin(owner, sd, parsed)
	}
	if err != nil {
		return libraryError(err)
	}
	return nil
}

// MarkCloneSuspected blocks a credential whose counter did not advance.
func (s *Service) MarkCloneSuspected(ctx context.Context, id []byte) error {
	return s.store.MarkCloneSuspected(ctx, id)
}
