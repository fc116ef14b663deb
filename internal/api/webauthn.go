package api

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/signin"
)

// CodeTooManyFailures is returned while a client is cooling down.
const CodeTooManyFailures = ratelimit.CodeTooManyFailures

// limited reserves one attempt of the client with the failure limiter
// before the wrapped handler does its expensive check, and settles it
// after: any 4xx counts as a failure. Reserving first is what bounds a
// burst of simultaneous guesses; the limiter's store makes it hold across
// servers.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := s.deps.FailureLimiter.Reserve(r.Context(), s.clientKey(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if err := res.Done(r.Context(), sw.status >= 400 && sw.status < 500); err != nil {
			slog.WarnContext(r.Context(), "failure limiter: settling an attempt failed", "err", err)
		}
	}
}

// limitedInService is limited for a handler whose service reserves the
// attempt itself, inside the statement that starts its check (the passkey
// sign-in's challenge take), sparing the reservation its round trip; the
// attempt is settled here in the same way.
func (s *Server) limitedInService(h func(http.ResponseWriter, *http.Request, *ratelimit.Attempt)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		att := s.deps.FailureLimiter.Attempt(s.clientKey(r))
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r, att)
		if err := att.Done(r.Context(), sw.status >= 400 && sw.status < 500); err != nil {
			slog.WarnContext(r.Context(), "failure limiter: settling an attempt failed", "err", err)
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// clientKey is the client's address (see clientIP): forwarding headers
// count only from the configured trusted proxies.
func (s *Server) clientKey(r *http.Request) string {
	return clientIP(r, s.deps.TrustedProxies)
}

// readBody reads the raw body (already capped by limitBody) for the
// library's parsers.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	if len(b) == 0 {
		return nil, apperr.Invalid(CodeBadJSON, "the request body is empty; send the PublicKeyCredential JSON")
	}
	return b, refuseNUL(b)
}

type beginLoginRequest struct {
	UserPrincipalName string `json:"userPrincipalName"`
}

func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request) {
	var req beginLoginRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, r, err)
			return
		}
	}
	opts, err := s.deps.SignIn.PasskeyOptions(r.Context(), signin.PasskeyOptionsRequest{UserPrincipalName: req.UserPrincipalName})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, att *ratelimit.Attempt) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	withRecord, err := includeSignIn(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.SignIn.Passkey(r.Context(), signin.PasskeyRequest{Credential: body, IP: s.clientKey(r), UserAgent: r.UserAgent(), Attempt: att})
	if !withRecord {
		// The client needs the outcome and the session; the record (about
		// 2 KB) only when asked, or later from /auditLogs/signIns/{signInId}.
		out.Log = nil
	}
	s.writeOutcome(w, r, out, err)
}

// includeSignIn reads ?include=signIn, the finish endpoint's one option.
func includeSignIn(r *http.Request) (bool, error) {
	v, ok := r.URL.Query()["include"]
	if !ok {
		return false, nil
	}
	if len(v) == 1 && v[0] == "signIn" {
		return true, nil
	}
	return false, apperr.Invalid(CodeBadQuery, "include: the only value is signIn (the sign-in record in the answer)").WithTarget("include")
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, tok string, ttl time.Duration) {
	c := &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(ttl.Seconds()),
	}
	if !plainCookieValue(tok) {
		http.SetCookie(w, c)
		return
	}
	// A token's characters (base64url and dots) are all valid in a cookie
	// and need no quotes, so the value is written as it is, before the
	// attributes net/http spells for it ("=x" stands in for the value):
	// the same header as http.SetCookie's, without checking each byte of
	// a ~500-byte token on every sign-in.
	c.Value = "x"
	attrs := c.String()
	w.Header().Add("Set-Cookie", SessionCookie+"="+tok+attrs[len(SessionCookie)+2:])
}

// plainCookieValue reports a value of letters, digits, '-', '_' and '.'
// only, which http.Cookie writes unchanged and unquoted. (A table, not
// comparisons: a token's random characters defeat branch prediction.)
func plainCookieValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !cookiePlain[v[i]] {
			return false
		}
	}
	return true
}

var cookiePlain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	return t
}()

type beginRegistrationRequest struct {
	DisplayName             string `json:"displayName"`
	AuthenticatorAttachment string `json:"authenticatorAttachment"`
}

func (s *Server) beginRegistration(w http.ResponseWriter, r *http.Request) {
	var req beginRegistrationRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, r, err)
			return
		}
	}
	opts, err := s.deps.Ceremony.BeginRegistration(r.Context(), sessionOf(r.Context()).Subject,
		ceremony.RegistrationOptions{DisplayName: req.DisplayName, Attachment: req.AuthenticatorAttachment})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

type registrationResponse struct {
	profiles.Fido2AuthenticationMethod
	Attestation attestation.Result `json:"attestation"`
}

func (s *Server) finishRegistration(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reg, err := s.deps.Ceremony.FinishRegistration(r.Context(), sessionOf(r.Context()).Subject, body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, registrationResponse{Fido2AuthenticationMethod: s.fido2Method(reg.Credential), Attestation: reg.Attestation})
}

// fido2Method presents a stored credential as Graph's
// fido2AuthenticationMethod; model is the AAGUID catalog's name (the
// operator's file, FIDO MDS, the community list), as Entra shows it.
func (s *Server) fido2Method(c ceremony.Credential) profiles.Fido2AuthenticationMethod {
	level := profiles.AttestationLevelNotAttested
	if c.Attestation.Trusted {
		level = profiles.AttestationLevelAttested
	}
	kind := profiles.PasskeyTypeDeviceBound
	if c.BackupEligible {
		kind = profiles.PasskeyTypeSynced
	}
	certs := c.Attestation.ChainSubjects
	if certs == nil {
		certs = []string{}
	}
	return profiles.Fido2AuthenticationMethod{
		ODataType: "#microsoft.graph.fido2AuthenticationMethod", ID: c.MethodID, DisplayName: c.DisplayName,
		CreatedDateTime: c.CreatedAt, LastUsedDateTime: c.LastUsedAt, AAGuid: c.AAGUID, Model: s.modelName(c.AAGUID),
		AttestationCertificates: certs, AttestationLevel: level, PasskeyType: kind,
	}
}

func (s *Server) modelName(aaguid string) string {
	a, _ := s.deps.Ceremony.Authenticator(aaguid)
	return a.Name
}

// authenticatorInfo answers GET /webauthn/authenticators/{aaguid}: the
// catalog's name and icons for an authenticator model, for the pages. The
// catalog is public data (names and logos), so no session is needed.
func (s *Server) authenticatorInfo(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "aaguid")
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		writeError(w, r, apperr.Invalid(CodeInvalidAAGUID, "aaguid must be a UUID such as 08987058-cadc-4b81-b6e1-30de50dcbe96").WithTarget("aaguid"))
		return
	}
	a, ok := s.deps.Ceremony.Authenticator(u.String())
	if !ok {
		writeError(w, r, apperr.NotFound(CodeAuthenticatorUnknown, "no catalog entry names AAGUID %s", u))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, a)
}

// Codes of GET /webauthn/authenticators/{aaguid}.
const (
	CodeInvalidAAGUID        = "invalidAaguid"
	CodeAuthenticatorUnknown = "authenticatorNotInCatalog"
)

// Bounds of GET /webauthn/authenticators.
const (
	maxCatalogSearch = 100
	// Entries carry their icons inline (a few KB each) and the list is
	// public: a small page keeps one anonymous request's answer small.
	maxCatalogTop = 25
	defCatalogTop = 20
)

type catalogPage struct {
	Value []attestation.Authenticator `json:"value"`
	// Count is how many models matched, of which Value holds the first top.
	Count int `json:"count"`
}

// listAuthenticators answers GET /webauthn/authenticators?search=&top=:
// the catalog's models (names and icons) matching search by name or
// AAGUID prefix, for the admin pages' AAGUID picker. Public like one entry.
func (s *Server) listAuthenticators(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, vs := range q {
		if k != "search" && k != "top" {
			writeError(w, r, apperr.Invalid(odata.CodeBadRequest, "unknown query parameter %q: this list takes search and top", k).WithTarget(k))
			return
		}
		if len(vs) != 1 {
			writeError(w, r, apperr.Invalid(odata.CodeBadRequest, "%s is given %d times: give it once", k, len(vs)).WithTarget(k))
			return
		}
	}
	search := q.Get("search")
	if len(search) > maxCatalogSearch {
		writeError(w, r, apperr.Invalid(odata.CodeBadRequest, "search is at most %d characters", maxCatalogSearch).WithTarget("search"))
		return
	}
	top := defCatalogTop
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCatalogTop {
			writeError(w, r, apperr.Invalid(odata.CodeBadRequest, "top must be an integer from 1 to %d", maxCatalogTop).WithTarget("top"))
			return
		}
		top = n
	}
	list, n := s.deps.Ceremony.Authenticators(search, top)
	if list == nil {
		list = []attestation.Authenticator{}
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, catalogPage{Value: list, Count: n})
}

// relatedOrigins serves /.well-known/webauthn (WebAuthn L3 §5.11): the
// origins allowed to run ceremonies for this RP ID, so a browser on a
// related origin (-related-origins) accepts the RP ID.
func (s *Server) relatedOrigins(w http.ResponseWriter, r *http.Request) {
	doc, err := s.deps.Ceremony.RelatedOriginsDocument()
	if err != nil {
		writeError(w, r, err)
		return
	}
	doc.ServeHTTP(w, r)
}

// mySignalState answers GET /me/webauthn/signals: the RP ID, user handle,
// names and accepted credential IDs the pages hand to the WebAuthn Signal
// API after a passkey is deleted or renamed.
func (s *Server) mySignalState(w http.ResponseWriter, r *http.Request) {
	st, err := s.deps.Ceremony.SignalState(r.Context(), sessionOf(r.Context()).Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
