package ceremony

import (
	"context"
	"crypto/sha256"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rpserver/rpserver/internal/apperr"
)

// BeginLogin returns the options for navigator.credentials.get. With a UPN
// the user's passkeys are listed in allowCredentials; without one (or for an
// unknown UPN, so the response does not reveal which accounts exist) the
// ceremony is discoverable: the authenticator picks the passkey and returns
// its user handle. client is the caller's address: nobody is signed in yet,
// so the challenges one client may hold unfinished are bounded.
func (s *Service) BeginLogin(ctx context.Context, upn, client string) (*protocol.CredentialAssertion, error) {
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		userID    string
		err       error
	)
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	var user UserInfo
	if upn != "" {
		user, err = s.users.UserByName(ctx, upn)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
				return nil, err
			}
			upn = ""
		}
	}
	if upn != "" {
		creds, lerr := s.store.ListCredentials(ctx, user.ID)
		if lerr != nil {
			return nil, lerr
		}
		if len(creds) == 0 {
			// A user with no passkey: answer like the discoverable case.
			upn = ""
		} else {
			lib := make([]webauthn.Credential, len(creds))
			for i := range creds {
				lib[i] = toLibrary(&creds[i])
			}
			userID = user.ID
			assertion, sd, err = s.wa.BeginLogin(&waUser{info: user, creds: lib}, uv)
		}
	}
	if upn == "" {
		assertion, sd, err = s.wa.BeginDiscoverableLogin(uv)
	}
	if err != nil {
		return nil, err
	}
	if err := s.saveSession(ctx, KindAuthentication, userID, client, sd); err != nil {
		return nil, err
	}
	return assertion, nil
}

// LoginResult is a verified sign-in.
type LoginResult struct {
	User       UserInfo
	Credential Credential
}

// FinishLogin verifies an assertion (the browser's PublicKeyCredential JSON)
// and advances the credential's counter. This is the hot path: two database
// round trips before the signature check (take challenge, load credential),
// one after (counter), and no other I/O.
func (s *Service) FinishLogin(ctx context.Context, body []byte) (LoginResult, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return LoginResult{}, invalid(CodeMalformedCredential, "the sign-in response is malformed: %v", protocolDetail(err))
	}
	h := sha256.Sum256([]byte(parsed.Response.CollectedClientData.Challenge))
	ch, credp, userp, err := s.store.TakeAssertionChallenge(ctx, h[:], parsed.RawID)
	if err != nil {
		return LoginResult{}, challengeError(err)
	}
	sd, err := s.openSession(ch)
	if err != nil {
		return LoginResult{}, err
	}
	if credp == nil {
		return LoginResult{}, unauthenticated(CodeUnknownCredential, "this passkey is not registered here (it may have been deleted)")
	}
	cred, user := *credp, *userp
	if !user.Enabled {
		return LoginResult{}, apperr.Forbidden(CodeUserDisabled, "the account is disabled")
	}
	if err := s.verifyAssertion(parsed, ch.UserID, sd, &cred, user); err != nil {
		return LoginResult{}, err
	}
	ad := &parsed.Response.AuthenticatorData
	now := s.Now()
	ok, err := s.store.RecordUse(ctx, cred.ID, ad.Counter, ad.Flags.HasBackupState(), now)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		if err := s.store.MarkCloneSuspected(ctx, cred.ID); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, unauthenticated(CodeSignCountRegression, "the signature counter went from %d to %d: the passkey may have been cloned, so it is now blocked", cred.SignCount, ad.Counter)
	}
	cred.SignCount, cred.BackupState, cred.LastUsedAt = ad.Counter, ad.Flags.HasBackupState(), &now
	return LoginResult{User: user, Credential: cred}, nil
}

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
