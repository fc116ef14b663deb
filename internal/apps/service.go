package apps

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/secrethash"
)

// Stable codes for bad app-registration input.
const (
	CodeInvalidID            = "invalidId"
	CodeInvalidDisplayName   = "invalidDisplayName"
	CodeInvalidRedirectURI   = "invalidRedirectUri"
	CodeTooManyRedirectURIs  = "tooManyRedirectUris"
	CodeInvalidSignInAud     = "invalidSignInAudience"
	CodeInvalidResource      = "invalidRequiredResourceAccess"
	CodeInvalidCredential    = "invalidPasswordCredential"
	CodeTooManyCredentials   = "tooManyPasswordCredentials"
	CodeDuplicateAppID       = "duplicateAppId"
	CodeNoBackingApplication = "noBackingApplication"
	CodeBuiltInPrincipal     = "builtInServicePrincipal"
	CodeInvalidTag           = "invalidTag"
	// CodeAssignmentNotModeled refuses appRoleAssignmentRequired true:
	// the lab has no app role assignments, so it could not honour it
	// (Entra would let only assigned users and groups sign in).
	CodeAssignmentNotModeled = "appRoleAssignmentNotSupported"
)

// Limits, from Entra's documented ones where it has them.
const (
	maxRedirectURIs   = 256 // per application, all platforms together
	maxRedirectURILen = 256
	maxNameLen        = 256
	maxDescLen        = 1024
	maxPasswords      = 20
	maxSecretLifetime = 2 * 365 * 24 * time.Hour // Graph's default and the portal's longest choice
	maxResources      = 50
	maxTags           = 50
)

// Service validates app-registration changes before they reach the Store.
type Service struct {
	Store Store
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ValidateID checks a path id is a GUID.
func ValidateID(id string) error {
	if !ids.Valid(id) {
		return apperr.Invalid(CodeInvalidID, "%q is not a valid id (a GUID)", id).WithTarget("id")
	}
	return nil
}

func validateName(target, v string, required bool) error {
	n := utf8.RuneCountInString(v)
	if (required && strings.TrimSpace(v) == "") || n > maxNameLen || !utf8.ValidString(v) {
		return apperr.Invalid(CodeInvalidDisplayName, "%s must be 1 to %d characters", target, maxNameLen).WithTarget(target)
	}
	return nil
}

// validateRedirectURIs applies Entra's rules: absolute, no fragment, https
// except for loopback (http://localhost, 127.0.0.1, [::1]); public clients
// may also use a custom scheme (msauth.com.example://auth). Duplicates are
// refused rather than silently merged.
func validateRedirectURIs(target string, uris []string, allowCustomScheme bool) error {
	seen := map[string]bool{}
	for _, raw := range uris {
		if len(raw) == 0 || len(raw) > maxRedirectURILen {
			return apperr.Invalid(CodeInvalidRedirectURI, "each redirect URI must be 1 to %d characters", maxRedirectURILen).WithTarget(target)
		}
		if seen[raw] {
			return apperr.Invalid(CodeInvalidRedirectURI, "redirect URI %q is listed twice", raw).WithTarget(target)
		}
		seen[raw] = true
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(raw, "#") || strings.Contains(raw, "*") {
			return apperr.Invalid(CodeInvalidRedirectURI, "redirect URI %q must be an absolute URI without a fragment or wildcard", raw).WithTarget(target)
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				return apperr.Invalid(CodeInvalidRedirectURI, "redirect URI %q has no host", raw).WithTarget(target)
			}
		case "http":
			if !isLoopback(u.Hostname()) {
				return apperr.Invalid(CodeInvalidRedirectURI, "redirect URI %q must use https (http is allowed only for localhost)", raw).WithTarget(target)
			}
		default:
			if !allowCustomScheme || u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file" {
				return apperr.Invalid(CodeInvalidRedirectURI, "redirect URI %q must use https (or http for localhost)", raw).WithTarget(target)
			}
		}
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (s *Service) validateApp(a *Application) error {
	if err := validateName("displayName", a.DisplayName, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(a.Description) > maxDescLen {
		return apperr.Invalid(CodeInvalidDisplayName, "description must be at most %d characters", maxDescLen).WithTarget("description")
	}
	if a.SignInAudience != "AzureADMyOrg" {
		return apperr.Invalid(CodeInvalidSignInAud, "signInAudience must be AzureADMyOrg: the lab is a single tenant").WithTarget("signInAudience")
	}
	nonNil(&a.Web.RedirectURIs, &a.Spa.RedirectURIs, &a.PublicClient.RedirectURIs)
	if n := len(a.Web.RedirectURIs) + len(a.Spa.RedirectURIs) + len(a.PublicClient.RedirectURIs); n > maxRedirectURIs {
		return apperr.Invalid(CodeTooManyRedirectURIs, "an application may have at most %d redirect URIs, got %d", maxRedirectURIs, n)
	}
	if err := validateRedirectURIs("web.redirectUris", a.Web.RedirectURIs, false); err != nil {
		return err
	}
	if a.Web.LogoutURL != "" {
		if err := validateRedirectURIs("web.logoutUrl", []string{a.Web.LogoutURL}, false); err != nil {
			return err
		}
	}
	if err := validateRedirectURIs("spa.redirectUris", a.Spa.RedirectURIs, false); err != nil {
		return err
	}
	if err := validateRedirectURIs("publicClient.redirectUris", a.PublicClient.RedirectURIs, true); err != nil {
		return err
	}
	if a.RequiredResourceAccess == nil {
		a.RequiredResourceAccess = []RequiredResourceAccess{}
	}
	if len(a.RequiredResourceAccess) > maxResources {
		return apperr.Invalid(CodeInvalidResource, "at most %d resources", maxResources).WithTarget("requiredResourceAccess")
	}
	for i := range a.RequiredResourceAccess {
		r := &a.RequiredResourceAccess[i]
		if !ids.Valid(r.ResourceAppID) {
			return apperr.Invalid(CodeInvalidResource, "resourceAppId %q is not a GUID", r.ResourceAppID).WithTarget("requiredResourceAccess")
		}
		if r.ResourceAccess == nil {
			r.ResourceAccess = []ResourceAccess{}
		}
		for _, ra := range r.ResourceAccess {
			if !ids.Valid(ra.ID) || (ra.Type != "Scope" && ra.Type != "Role") {
				return apperr.Invalid(CodeInvalidResource, "resourceAccess needs a GUID id and type Scope or Role").WithTarget("requiredResourceAccess")
			}
		}
	}
	return nil
}

func nonNil(lists ...*[]string) {
	for _, l := range lists {
		if *l == nil {
			*l = []string{}
		}
	}
}

// CreateApplication registers an app with fresh object and app ids.
func (s *Service) CreateApplication(ctx context.Context, a Application) (Application, error) {
	if a.SignInAudience == "" {
		a.SignInAudience = "AzureADMyOrg"
	}
	if err := s.validateApp(&a); err != nil {
		return Application{}, err
	}
	a.ID, a.AppID = uuid.NewString(), uuid.NewString()
	a.PasswordCredentials = []PasswordCredential{}
	return s.Store.CreateApplication(ctx, a)
}

// UpdateApplication validates the application as it would be after the patch.
func (s *Service) UpdateApplication(ctx context.Context, id string, p ApplicationPatch) (Application, error) {
	if err := ValidateID(id); err != nil {
		return Application{}, err
	}
	cur, err := s.Store.GetApplication(ctx, id)
	if err != nil {
		return Application{}, err
	}
	next := cur
	if p.DisplayName != nil {
		next.DisplayName = *p.DisplayName
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Web != nil {
		next.Web = *p.Web
	}
	if p.Spa != nil {
		next.Spa = *p.Spa
	}
	if p.PublicClient != nil {
		next.PublicClient = *p.PublicClient
	}
	if p.RequiredResourceAccess != nil {
		next.RequiredResourceAccess = *p.RequiredResourceAccess
	}
	if err := s.validateApp(&next); err != nil {
		return Application{}, err
	}
	// Hand the store the normalised values.
	if p.Web != nil {
		p.Web = &next.Web
	}
	if p.Spa != nil {
		p.Spa = &next.Spa
	}
	if p.PublicClient != nil {
		p.PublicClient = &next.PublicClient
	}
	if p.RequiredResourceAccess != nil {
		p.RequiredResourceAccess = &next.RequiredResourceAccess
	}
	return s.Store.UpdateApplication(ctx, id, p)
}

// AddPassword makes a client secret, stores its hash and returns the
// credential with secretText, the only time the secret is shown.
func (s *Service) AddPassword(ctx context.Context, applicationID string, req PasswordCredential) (PasswordCredential, error) {
	if err := ValidateID(applicationID); err != nil {
		return PasswordCredential{}, err
	}
	if req.SecretText != nil || req.KeyID != "" || req.Hint != "" || req.CustomKeyIdentifier != nil {
		return PasswordCredential{}, apperr.Invalid(CodeInvalidCredential, "only displayName, startDateTime and endDateTime may be given: the server generates the secret").WithTarget("passwordCredential")
	}
	if err := validateName("passwordCredential.displayName", req.DisplayName, false); err != nil {
		return PasswordCredential{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if req.StartDateTime.IsZero() {
		req.StartDateTime = now
	}
	if req.EndDateTime.IsZero() {
		req.EndDateTime = req.StartDateTime.Add(maxSecretLifetime)
	}
	if !req.EndDateTime.After(req.StartDateTime) || req.EndDateTime.Sub(req.StartDateTime) > maxSecretLifetime+24*time.Hour || !req.EndDateTime.After(now) {
		return PasswordCredential{}, apperr.Invalid(CodeInvalidCredential, "endDateTime must be in the future, after startDateTime and at most two years later").WithTarget("passwordCredential.endDateTime")
	}
	secret := newSecret()
	c := PasswordCredential{
		KeyID: uuid.NewString(), DisplayName: req.DisplayName, Hint: secret[:3],
		StartDateTime: req.StartDateTime.UTC(), EndDateTime: req.EndDateTime.UTC(), SecretHash: secrethash.Hash(secret),
	}
	if err := s.Store.AddPassword(ctx, applicationID, c, maxPasswords); err != nil {
		return PasswordCredential{}, err
	}
	c.SecretText = &secret
	return c, nil
}

// RemovePassword deletes a credential by keyId.
func (s *Service) RemovePassword(ctx context.Context, applicationID, keyID string) error {
	if err := ValidateID(applicationID); err != nil {
		return err
	}
	if !ids.Valid(keyID) {
		return apperr.Invalid(CodeInvalidID, "keyId must be a GUID").WithTarget("keyId")
	}
	return s.Store.RemovePassword(ctx, applicationID, keyID)
}

// secretAlphabet is what Entra's generated secrets are made of.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"

// newSecret returns 40 characters (~240 bits) with Entra's "xxx8Q~" look.
func newSecret() string {
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	// The alphabet has 66 characters: the modulo bias is under 2% per
	// character and costs a fraction of a bit of ~240.
	b[3], b[4], b[5] = '8', 'Q', '~'
	return string(b)
}

// VerifySecret checks a client secret against the app's credentials that are
// in force now. It runs argon2id once per credential, in the process-wide
// hashing slots, so a flood of token requests cannot exhaust memory.
func (s *Service) VerifySecret(ctx context.Context, appID, secret string) (bool, error) {
	creds, err := s.Store.PasswordHashes(ctx, appID)
	if err != nil {
		return false, err
	}
	release, err := secrethash.Acquire(ctx)
	defer release()
	if err != nil {
		return false, err
	}
	now := s.now()
	if len(creds) == 0 {
		return secrethash.VerifyDummy(secret), nil
	}
	for _, c := range creds {
		if now.Before(c.StartDateTime) || !now.Before(c.EndDateTime) {
			continue
		}
		if secrethash.Verify(c.SecretHash, secret) {
			return true, nil
		}
	}
	return false, nil
}

// CreateServicePrincipal adds the app to the tenant; the app must be
// registered here (Graph refuses a principal without a backing application
// the tenant can see).
func (s *Service) CreateServicePrincipal(ctx context.Context, sp ServicePrincipal) (ServicePrincipal, error) {
	if !ids.Valid(sp.AppID) {
		return ServicePrincipal{}, apperr.Invalid(CodeInvalidID, "appId must be a GUID").WithTarget("appId")
	}
	app, err := s.Store.ApplicationByAppID(ctx, sp.AppID)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return ServicePrincipal{}, apperr.Invalid(CodeNoBackingApplication, "no application with appId %s is registered in the lab tenant", sp.AppID).WithTarget("appId")
		}
		return ServicePrincipal{}, err
	}
	if err := validateTags(sp.Tags); err != nil {
		return ServicePrincipal{}, err
	}
	if sp.AppRoleAssignmentRequired {
		return ServicePrincipal{}, errAssignmentRequired()
	}
	if sp.Tags == nil {
		sp.Tags = []string{}
	}
	sp.ID, sp.DisplayName = uuid.NewString(), app.DisplayName
	return s.Store.CreateServicePrincipal(ctx, sp)
}

// errAssignmentRequired refuses what the lab could only pretend to
// enforce: without app role assignments, a stored true would let every
// user in where Entra lets only the assigned ones.
func errAssignmentRequired() error {
	return apperr.Invalid(CodeAssignmentNotModeled, "appRoleAssignmentRequired true is not supported: the lab has no app role assignments to enforce it with; leave it false; to keep everyone else out, add a Conditional Access policy for this app that includes all users, excludes the intended group and grants block").WithTarget("appRoleAssignmentRequired")
}

func validateTags(tags []string) error {
	if len(tags) > maxTags {
		return apperr.Invalid(CodeInvalidTag, "at most %d tags", maxTags).WithTarget("tags")
	}
	for _, t := range tags {
		if t == "" || utf8.RuneCountInString(t) > 256 || t == BuiltInTag {
			return apperr.Invalid(CodeInvalidTag, "tags must be 1 to 256 characters and not %q", BuiltInTag).WithTarget("tags")
		}
	}
	return nil
}

// BuiltInTag marks the service principals every lab tenant has.
const BuiltInTag = "builtIn"

// UpdateServicePrincipal changes accountEnabled, appRoleAssignmentRequired
// or tags.
func (s *Service) UpdateServicePrincipal(ctx context.Context, id string, p ServicePrincipalPatch) (ServicePrincipal, error) {
	if err := ValidateID(id); err != nil {
		return ServicePrincipal{}, err
	}
	if p.AppRoleAssignmentRequired != nil && *p.AppRoleAssignmentRequired {
		return ServicePrincipal{}, errAssignmentRequired()
	}
	if p.Tags != nil {
		if err := validateTags(*p.Tags); err != nil {
			return ServicePrincipal{}, err
		}
		cur, err := s.Store.GetServicePrincipal(ctx, id)
		if err != nil {
			return ServicePrincipal{}, err
		}
		if isBuiltIn(cur) {
			t := append([]string{BuiltInTag}, *p.Tags...)
			p.Tags = &t
		}
	}
	return s.Store.UpdateServicePrincipal(ctx, id, p)
}

// DeleteServicePrincipal removes a registered app's principal; the built-in
// ones stay (disable them with accountEnabled instead).
func (s *Service) DeleteServicePrincipal(ctx context.Context, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	cur, err := s.Store.GetServicePrincipal(ctx, id)
	if err != nil {
		return err
	}
	if isBuiltIn(cur) {
		return apperr.Invalid(CodeBuiltInPrincipal, "%s is built into the lab tenant; set accountEnabled to false instead", cur.DisplayName)
	}
	return s.Store.DeleteServicePrincipal(ctx, id)
}

func isBuiltIn(sp ServicePrincipal) bool {
	for _, t := range sp.Tags {
		if t == BuiltInTag {
			return true
		}
	}
	return false
}
