// Command baseline is the speed baseline of scripts/bench.sh: a plain
// go-webauthn relying party the way most tutorials and small deployments
// build one, kept deliberately honest and minimal.
//
//   - a pgx pool; every statement runs on its own (autocommit), as a
//     handler-per-query server does;
//   - WebAuthn session data (go-webauthn's SessionData, JSON) in a table
//     keyed by the challenge, taken with DELETE ... RETURNING at finish;
//   - the user and their credentials (go-webauthn's Credential, JSON) loaded
//     to build the webauthn.User, then the library's login validation;
//   - the credential written back with its new counter;
//   - an opaque session token, its hash stored in a session row.
//
// No Conditional Access, no sign-in log, no risk, no groups: it is what
// rpserver is measured against, doing everything a plain server does.
//
// It serves the subset of rpserver's HTTP contract that `rpserver loadtest`
// drives (user creation, a one-time pass for the first session, passkey
// registration and sign-in), so the same generator runs against both. It
// listens on loopback only; the schema is created at start.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const schema = `
CREATE TABLE IF NOT EXISTS users (
	id uuid PRIMARY KEY,
	upn text NOT NULL UNIQUE,
	display_name text NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
	id bytea PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS credentials_user ON credentials (user_id);
CREATE TABLE IF NOT EXISTS webauthn_sessions (
	challenge text PRIMARY KEY,
	user_id uuid NOT NULL,
	data jsonb NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS passes (
	pass_hash bytea PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS sessions (
	token_hash bytea PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);`

const (
	sessionTTL   = 8 * time.Hour
	challengeTTL = 5 * time.Minute
	maxBody      = 64 << 10
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "loopback listen address")
	dsn := flag.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL)")
	rpID := flag.String("rp-id", "localhost", "WebAuthn relying party id")
	origin := flag.String("origin", "", "allowed origin (default http://localhost:<listen port>)")
	adminToken := flag.String("admin-token", os.Getenv("BASELINE_ADMIN_TOKEN"), "bearer token that may create users and passes (BASELINE_ADMIN_TOKEN)")
	flag.Parse()
	if err := run(*listen, *dsn, *rpID, *origin, *adminToken); err != nil {
		log.Fatal(err)
	}
}

func run(listen, dsn, rpID, origin, adminToken string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %s: the baseline listens on loopback only", listen)
	}
	if dsn == "" || adminToken == "" {
		return errors.New("-database-url and -admin-token are required")
	}
	if origin == "" {
		origin = "http://localhost:" + port
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: "baseline", RPOrigins: []string{origin}})
	if err != nil {
		return err
	}
	s := &server{db: pool, wa: wa, admin: adminToken}
	srv := &http.Server{Addr: listen, Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("baseline listening on http://%s (origin %s)", listen, origin)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

type server struct {
	db    *pgxpool.Pool
	wa    *webauthn.WebAuthn
	admin string
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/users", s.createUser)
	mux.HandleFunc("POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods", s.createPass)
	mux.HandleFunc("POST /signin/tap", s.redeemPass)
	mux.HandleFunc("POST /webauthn/registration/begin", s.beginRegistration)
	mux.HandleFunc("POST /webauthn/registration/finish", s.finishRegistration)
	mux.HandleFunc("POST /webauthn/authentication/begin", s.beginLogin)
	mux.HandleFunc("POST /webauthn/authentication/finish", s.finishLogin)
	return http.MaxBytesHandler(mux, maxBody)
}

// user adapts a row and its credentials to go-webauthn.
type user struct {
	id          uuid.UUID
	upn, name   string
	credentials []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id[:] }
func (u *user) WebAuthnName() string                       { return u.upn }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.credentials }

// loadUser reads the user, then their credentials: the two queries a plain
// server makes to build a webauthn.User.
func (s *server) loadUser(ctx context.Context, where string, arg any) (*user, error) {
	u := &user{}
	if err := s.db.QueryRow(ctx, `SELECT id, upn, display_name FROM users WHERE `+where, arg).Scan(&u.id, &u.upn, &u.name); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT credential FROM credentials WHERE user_id = $1`, u.id)
	if err != nil {
		return nil, err
	}
	u.credentials, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (webauthn.Credential, error) {
		var c webauthn.Credential
		var raw []byte
		if err := r.Scan(&raw); err != nil {
			return c, err
		}
		return c, json.Unmarshal(raw, &c)
	})
	return u, err
}

func (s *server) saveSession(ctx context.Context, userID uuid.UUID, sd *webauthn.SessionData) error {
	raw, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO webauthn_sessions (challenge, user_id, data, expires_at) VALUES ($1, $2, $3, $4)`,
		sd.Challenge, userID, raw, time.Now().Add(challengeTTL))
	return err
}

func (s *server) takeSession(ctx context.Context, challenge string) (webauthn.SessionData, uuid.UUID, error) {
	var sd webauthn.SessionData
	var userID uuid.UUID
	var raw []byte
	var expires time.Time
	err := s.db.QueryRow(ctx, `DELETE FROM webauthn_sessions WHERE challenge = $1 RETURNING user_id, data, expires_at`, challenge).Scan(&userID, &raw, &expires)
	if err != nil {
		return sd, userID, err
	}
	if time.Now().After(expires) {
		return sd, userID, errors.New("challenge expired")
	}
	return sd, userID, json.Unmarshal(raw, &sd)
}

// newSession stores the hash of a fresh opaque token for the user.
func (s *server) newSession(ctx context.Context, userID uuid.UUID) (string, error) {
	tok := randomToken()
	h := sha256.Sum256([]byte(tok))
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, h[:], userID, time.Now().Add(sessionTTL))
	return tok, err
}

func (s *server) sessionUser(r *http.Request) (uuid.UUID, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return uuid.Nil, errors.New("no bearer token")
	}
	h := sha256.Sum256([]byte(tok))
	var id uuid.UUID
	err := s.db.QueryRow(r.Context(), `SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > now()`, h[:]).Scan(&id)
	return id, err
}

func (s *server) isAdmin(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.admin)) == 1
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request) {
	if !s.isAdmin(r) {
		fail(w, http.StatusUnauthorized, "unauthenticated", errors.New("admin token required"))
		return
	}
	var req struct {
		UPN         string `json:"userPrincipalName"`
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UPN == "" {
		fail(w, http.StatusBadRequest, "badRequest", errors.New("userPrincipalName is required"))
		return
	}
	id := uuid.New()
	if _, err := s.db.Exec(r.Context(), `INSERT INTO users (id, upn, display_name) VALUES ($1, $2, $3)`, id, req.UPN, req.DisplayName); err != nil {
		fail(w, http.StatusConflict, "conflict", err)
		return
	}
	reply(w, http.StatusCreated, map[string]string{"id": id.String()})
}

func (s *server) createPass(w http.ResponseWriter, r *http.Request) {
	if !s.isAdmin(r) {
		fail(w, http.StatusUnauthorized, "unauthenticated", errors.New("admin token required"))
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		fail(w, http.StatusBadRequest, "badRequest", err)
		return
	}
	pass := randomToken()
	h := sha256.Sum256([]byte(pass))
	if _, err := s.db.Exec(r.Context(), `INSERT INTO passes (pass_hash, user_id) VALUES ($1, $2)`, h[:], id); err != nil {
		fail(w, http.StatusNotFound, "notFound", err)
		return
	}
	reply(w, http.StatusCreated, map[string]string{"temporaryAccessPass": pass})
}

func (s *server) redeemPass(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UPN  string `json:"userPrincipalName"`
		Pass string `json:"temporaryAccessPass"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "badRequest", err)
		return
	}
	h := sha256.Sum256([]byte(req.Pass))
	var id uuid.UUID
	err := s.db.QueryRow(r.Context(), `DELETE FROM passes p USING users u WHERE p.pass_hash = $1 AND u.id = p.user_id AND u.upn = $2
		RETURNING p.user_id`, h[:], req.UPN).Scan(&id)
	if err != nil {
		fail(w, http.StatusUnauthorized, "invalidTemporaryAccessPass", err)
		return
	}
	tok, err := s.newSession(r.Context(), id)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"sessionToken": tok})
}

func (s *server) beginRegistration(w http.ResponseWriter, r *http.Request) {
	id, err := s.sessionUser(r)
	if err != nil {
		fail(w, http.StatusUnauthorized, "unauthenticated", err)
		return
	}
	u, err := s.loadUser(r.Context(), `id = $1`, id)
	if err != nil {
		fail(w, http.StatusNotFound, "notFound", err)
		return
	}
	opts, sd, err := s.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.credentials).CredentialDescriptors()))
	if err == nil {
		err = s.saveSession(r.Context(), u.id, sd)
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err)
		return
	}
	reply(w, http.StatusOK, opts)
}

func (s *server) finishRegistration(w http.ResponseWriter, r *http.Request) {
	id, err := s.sessionUser(r)
	if err != nil {
		fail(w, http.StatusUnauthorized, "unauthenticated", err)
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(r.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, "malformedCredential", err)
		return
	}
	sd, sessionUser, err := s.takeSession(r.Context(), parsed.Response.CollectedClientData.Challenge)
	if err != nil || sessionUser != id {
		fail(w, http.StatusBadRequest, "challengeNotFound", errors.New("unknown or expired challenge"))
		return
	}
	u, err := s.loadUser(r.Context(), `id = $1`, id)
	if err != nil {
		fail(w, http.StatusNotFound, "notFound", err)
		return
	}
	cred, err := s.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		fail(w, http.StatusBadRequest, "verificationFailed", err)
		return
	}
	raw, err := json.Marshal(cred)
	if err == nil {
		_, err = s.db.Exec(r.Context(), `INSERT INTO credentials (id, user_id, credential) VALUES ($1, $2, $3)`, cred.ID, u.id, raw)
	}
	if err != nil {
		fail(w, http.StatusConflict, "conflict", err)
		return
	}
	reply(w, http.StatusCreated, map[string]string{"id": base64.RawURLEncoding.EncodeToString(cred.ID)})
}

func (s *server) beginLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UPN string `json:"userPrincipalName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UPN == "" {
		fail(w, http.StatusBadRequest, "badRequest", errors.New("userPrincipalName is required"))
		return
	}
	u, err := s.loadUser(r.Context(), `upn = $1`, req.UPN)
	if err != nil {
		fail(w, http.StatusNotFound, "notFound", err)
		return
	}
	opts, sd, err := s.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err == nil {
		err = s.saveSession(r.Context(), u.id, sd)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "beginFailed", err)
		return
	}
	reply(w, http.StatusOK, opts)
}

// finishLogin is go-webauthn's FinishLogin split in its two halves (parse,
// then ValidateLogin), because the session is found by the challenge the
// client echoes rather than by a cookie.
func (s *server) finishLogin(w http.ResponseWriter, r *http.Request) {
	parsed, err := protocol.ParseCredentialRequestResponseBody(r.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, "malformedCredential", err)
		return
	}
	ctx := r.Context()
	sd, userID, err := s.takeSession(ctx, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		fail(w, http.StatusBadRequest, "challengeNotFound", errors.New("unknown or expired challenge"))
		return
	}
	u, err := s.loadUser(ctx, `id = $1`, userID)
	if err != nil {
		fail(w, http.StatusNotFound, "notFound", err)
		return
	}
	cred, err := s.wa.ValidateLogin(u, sd, parsed)
	if err != nil {
		fail(w, http.StatusUnauthorized, "verificationFailed", err)
		return
	}
	if cred.Authenticator.CloneWarning {
		fail(w, http.StatusUnauthorized, "signCountRegression", errors.New("the signature counter went backwards"))
		return
	}
	raw, err := json.Marshal(cred)
	if err == nil {
		_, err = s.db.Exec(ctx, `UPDATE credentials SET credential = $2 WHERE id = $1`, cred.ID, raw)
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err)
		return
	}
	tok, err := s.newSession(ctx, u.id)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"userId": u.id.String(), "userPrincipalName": u.upn, "sessionToken": tok})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers in Graph's error envelope, which the generator reads.
func fail(w http.ResponseWriter, status int, code string, err error) {
	if errors.Is(err, io.EOF) {
		err = errors.New("empty body")
	}
	reply(w, status, map[string]any{"error": map[string]string{"code": code, "message": err.Error()}})
}
