package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/testpg"
)

// TestPhoneCommand drives `rpserver phone` against a served lab: register
// with a TAP (passkey and push), password sign-in where Conditional Access
// asks for MFA (the phone answers its own push), and approve-push / -deny
// for a push a browser sign-in started.
func TestPhoneCommand(t *testing.T) {
	dataDir := t.TempDir()
	c := config.Config{DataDir: dataDir, Issuer: origin, RPID: "localhost", Origins: []string{origin}, AdminTokenTTL: 3600e9, MaxBodyBytes: 64 << 10, LabCA: true}
	s := startLab(t, c, testpg.NewDatabase(t))
	remove, err := c.WriteRuntime(config.Runtime{Issuer: c.Issuer, Origins: c.Origins, URL: s.url})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	ga := s.ga
	carol := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"carol@lab.example","displayName":"Carol","passwordProfile":{"password":"Carol-Password-1"}}`, 201).id()
	s.must("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga, `{"state":"enabled"}`, 200)
	pass := s.must("POST", "/v1.0/users/"+carol+"/authentication/temporaryAccessPassMethods", ga, `{}`, 201).str("temporaryAccessPass")
	store := filepath.Join(t.TempDir(), "carol.phone")
	phone := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := phoneCommand(context.Background(), append([]string{"-data-dir", dataDir, "-store", store}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	out, err := phone("-upn", "carol@lab.example", "-preset", "ms-android", "register", "-tap", pass)
	if err != nil || !strings.Contains(out, "attestation android-key trusted") || !strings.Contains(out, "push:") {
		t.Fatalf("register: %v\n%s", err, out)
	}
	if fi, err := os.Stat(store); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store: %v %v", fi, err)
	}

	// MFA for Carol: the password alone steps up to a push, which the phone approves.
	s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, caBody("Require MFA", "enabled",
		fmt.Sprintf(`{"includeUsers":[%q]}`, carol), `{"operator":"OR","builtInControls":["mfa"]}`), 201)
	out, err = phone("signin", "-fresh", "-password", "Carol-Password-1")
	if err != nil || !strings.Contains(out, "sign-in completed for carol@lab.example (password + microsoftAuthenticatorPush)") {
		t.Fatalf("password + push: %v\n%s", err, out)
	}

	// A browser sign-in asks for a push; the phone approves it with the number shown, then denies the next.
	for _, deny := range []bool{false, true} {
		flow := s.must("POST", "/signin/begin", "", `{"userPrincipalName":"carol@lab.example"}`, 200).str("flowToken")
		flow = s.must("POST", "/signin/password", "", `{"flowToken":"`+flow+`","password":"Carol-Password-1"}`, 200).str("flowToken")
		ch := s.must("POST", "/signin/push/begin", "", `{"flowToken":"`+flow+`"}`, 200)
		args := []string{"approve-push", "-number", fmt.Sprint(ch.body["numberMatch"])}
		if deny {
			args = []string{"approve-push", "-deny"}
		}
		if out, err := phone(args...); err != nil || !strings.Contains(out, ch.str("pushRequestId")) {
			t.Fatalf("approve-push (deny %v): %v\n%s", deny, err, out)
		}
		done := s.do("POST", "/signin/push/complete", "", `{"flowToken":"`+flow+`","pushRequestId":"`+ch.str("pushRequestId")+`"}`)
		if !deny && done.str("status") != "completed" {
			t.Fatalf("approved push: %s", done.raw)
		}
		if deny && done.code() != "pushDenied" {
			t.Fatalf("denied push: %s", done.raw)
		}
	}
	if out, err := phone("approve-push", "-number", "42"); err == nil || !strings.Contains(out+err.Error(), "no push is waiting") {
		t.Fatalf("approve-push with nothing pending: %v\n%s", err, out)
	}
}
