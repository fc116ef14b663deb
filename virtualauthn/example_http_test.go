package virtualauthn_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rpserver/rpserver/virtualauthn"
)

// Example_httpFlow is what a load tester or a "phone" tool does against a
// relying party over HTTP: POST begin, hand the options to the
// authenticator, POST its answer to finish. Between registration and
// sign-in the credential is saved and loaded into a fresh authenticator, as
// a command that runs once per step (rpserver phone) keeps it in a file.
//
// The relying party here is a minimal go-webauthn server so the example
// runs anywhere; against rpserver the paths are /webauthn/registration/begin
// and /finish (with a session) and /webauthn/authentication/begin and /finish.
func Example_httpFlow() {
	rp := newExampleRP()
	srv := httptest.NewServer(rp)
	defer srv.Close()
	const origin = "http://localhost"

	ca, _ := virtualauthn.NewTestCA() // the server would trust ca.RootPEM()
	phone, _ := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorIOS(ca))

	// Registration: begin -> Create -> finish.
	opts := post(srv.URL+"/register/begin", nil)
	att, err := phone.Create(opts, origin)
	if err != nil {
		fmt.Println("create:", err)
		return
	}
	fmt.Println("register:", string(post(srv.URL+"/register/finish", att)))

	// Save the credential (keys and counter) and load it into a new
	// authenticator, as the next run of a command would.
	saved, _ := phone.Export()
	file, _ := json.Marshal(saved)
	var loaded []virtualauthn.SavedCredential
	_ = json.Unmarshal(file, &loaded)
	later, _ := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorIOS(ca))
	if err := later.Import(loaded...); err != nil {
		fmt.Println("import:", err)
		return
	}

	// Sign-in: begin -> Get -> finish, with the loaded credential.
	opts = post(srv.URL+"/login/begin", nil)
	assertion, err := later.Get(opts, origin)
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	fmt.Println("sign-in:", string(post(srv.URL+"/login/finish", assertion)))
	// Output:
	// register: registered 1 credential
	// sign-in: signed in alice@lab.example
}

func post(url string, body []byte) []byte {
	res, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return []byte(err.Error())
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return raw
}

// exampleRP is a one-user relying party on go-webauthn.
type exampleRP struct {
	w       *webauthn.WebAuthn
	mux     *http.ServeMux
	user    *exampleUser
	session *webauthn.SessionData
}

type exampleUser struct{ creds []webauthn.Credential }

func (u *exampleUser) WebAuthnID() []byte                         { return []byte("user-1") }
func (u *exampleUser) WebAuthnName() string                       { return "alice@lab.example" }
func (u *exampleUser) WebAuthnDisplayName() string                { return "Alice" }
func (u *exampleUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newExampleRP() *exampleRP {
	w, _ := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "lab", RPOrigins: []string{"http://localhost"}})
	rp := &exampleRP{w: w, mux: http.NewServeMux(), user: &exampleUser{}}
	rp.mux.HandleFunc("POST /register/begin", func(wr http.ResponseWriter, r *http.Request) {
		opts, s, err := w.BeginRegistration(rp.user)
		rp.answer(wr, opts, s, err)
	})
	rp.mux.HandleFunc("POST /register/finish", func(wr http.ResponseWriter, r *http.Request) {
		c, err := w.FinishRegistration(rp.user, *rp.session, r)
		if err != nil {
			http.Error(wr, err.Error(), http.StatusBadRequest)
			return
		}
		rp.user.creds = append(rp.user.creds, *c)
		fmt.Fprintf(wr, "registered %d credential", len(rp.user.creds))
	})
	rp.mux.HandleFunc("POST /login/begin", func(wr http.ResponseWriter, r *http.Request) {
		opts, s, err := w.BeginLogin(rp.user)
		rp.answer(wr, opts, s, err)
	})
	rp.mux.HandleFunc("POST /login/finish", func(wr http.ResponseWriter, r *http.Request) {
		if _, err := w.FinishLogin(rp.user, *rp.session, r); err != nil {
			http.Error(wr, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(wr, "signed in %s", rp.user.WebAuthnName())
	})
	return rp
}

func (rp *exampleRP) answer(w http.ResponseWriter, opts any, s *webauthn.SessionData, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rp.session = s
	_ = json.NewEncoder(w).Encode(opts)
}

func (rp *exampleRP) ServeHTTP(w http.ResponseWriter, r *http.Request) { rp.mux.ServeHTTP(w, r) }
