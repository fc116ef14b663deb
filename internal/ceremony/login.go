package ceremony

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rpserver/rpserver/internal/apperr"
)

// BeginLogin returns the options for navigator.credentials.get. With a UPN
// the user's passkeys are listed in allowCredentials; without one (or for an
// unknown UPN or a user without passkeys, so the response does not reveal
// which accounts exist) the ceremony is discoverable: the authenticator
// picks the passkey and returns its user handle. client is the caller's
// address: nobody is signed in yet, so the challenges one client (and all
// anonymous clients) may hold unfinished are bounded, in the same statement.
//
// It is one database round trip: the challenge row is stored and the allow
// list (credential ids and transports only) read by the same statement. No
// library session is stored for a sign-in: everything FinishLogin needs of
// it is the challenge row (assertionSession).
func (s *Service) BeginLogin(ctx context.Context, upn, client string) (*protocol.CredentialAssertion, error) {
	ctx, span := tracer.Start(ctx, "ceremony.BeginLogin")
	defer span.End()
	challenge, err := protocol.CreateChallenge()
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(challenge.String()))
	c := Challenge{Hash: h[:], Kind: KindAuthentication, ExpiresAt: s.Now().Add(s.cfg.ChallengeTTL), Client: client}
	if client != "" {
		c.Pending = PendingBound{PerClient: s.cfg.MaxPendingPerClient, Total: s.cfg.MaxPendingTotal}
	}
	refs, err := s.store.BeginAssertion(ctx, upn, c)
	if err != nil {
		return nil, err
	}
	allow := make([]protocol.CredentialDescriptor, len(refs))
	for i, r := range refs {
		allow[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: r.ID}
		for _, t := range r.Transports {
			allow[i].Transport = append(allow[i].Transport, protocol.AuthenticatorTransport(t))
		}
	}
	assertion, _, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired),
		webauthn.WithChallenge(challenge), webauthn.WithAllowedCredentials(allow))
	if err != nil {
		return nil, err
	}
	return assertion, nil
}

// assertionSession rebuilds the library's session of a sign-in from its
// challenge row: the challenge itself (which hashed to the row's key), the
// user the ceremony was begun for, required user verification and the
// expiry.
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

// Assertion is a parsed sign-in response, before any I/O: the caller takes
// its challenge (ChallengeHash) and loads its credential (CredentialID),
// then hands them to Verify.
type Assertion struct {
	parsed        *protocol.ParsedCredentialAssertionData
	ChallengeHash []byte
	CredentialID  []byte
}

// ParseAssertion reads the browser's PublicKeyCredential JSON.
func (s *Service) ParseAssertion(body []byte) (*Assertion, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, invalid(CodeMalformedCredential, "the sign-in response is malformed: %v", protocolDetail(err))
	}
	h := sha256.Sum256([]byte(parsed.Response.CollectedClientData.Challenge))
	return &Assertion{parsed: parsed, ChallengeHash: h[:], CredentialID: parsed.RawID}, nil
}

// Use is what a verified assertion changes on its credential: the caller
// stores it with a conditional update (the counter must still grow, or
// stay 0 for authenticators without one), atomically with the sign-in.
type Use struct {
	CredentialID []byte
	SignCount    uint32
	BackupState  bool
	At           time.Time
}

// Verify checks an assertion against the challenge row it named and the
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
// trips, one to take the challenge with the credential and its owner, one
// for the counter. The passkey sign-in of internal/signin does not use it:
// it takes the challenge together with everything its decision needs and
// commits the counter with the sign-in log record.
func (s *Service) FinishLogin(ctx context.Context, body []byte) (LoginResult, error) {
	ctx, span := tracer.Start(ctx, "ceremony.FinishLogin")
	defer span.End()
	a, err := s.ParseAssertion(body)
	if err != nil {
		return LoginResult{}, err
	}
	ch, credp, userp, err := s.store.TakeAssertionChallenge(ctx, a.ChallengeHash, a.CredentialID)
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
