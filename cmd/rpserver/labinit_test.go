package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
)

func TestLabInitFillsAnEmptyTenantOnce(t *testing.T) {
	srv := servertest.New(t, server.Config{})
	args := []string{"init", "-database-url", srv.Config.DatabaseURL, "-url", srv.URL, "-origins", srv.Config.Origins[0],
		"-master-key", base64.StdEncoding.EncodeToString(srv.Config.MasterKey), "-data-dir", t.TempDir()}
	var out, errOut bytes.Buffer
	if err := labCommand(args, &out, &errOut); err != nil {
		t.Fatalf("lab init: %v\n%s", err, errOut.String())
	}
	pass := regexp.MustCompile(`(?m)^    (\S+)$`).FindStringSubmatch(out.String())
	if pass == nil || !strings.Contains(out.String(), "admin1@lab.example") || !strings.Contains(out.String(), srv.Config.Origins[0]) {
		t.Fatalf("output lacks the TAP or the URL:\n%s", out.String())
	}
	ctx := context.Background()
	for _, upn := range []string{"breakglass1@lab.example", "breakglass2@lab.example"} {
		u, err := srv.DB.Directory().GetUserByUPN(ctx, upn)
		if err != nil || !u.IsEmergencyAccess {
			t.Fatalf("%s: %+v %v", upn, u, err)
		}
	}
	groups, _, err := srv.DB.Directory().ListGroups(ctx, directory.Query{Page: directory.Page{Top: 100}})
	if err != nil || len(groups) != len(labTenant.groups) {
		t.Fatalf("groups: %d %v", len(groups), err)
	}
	// The printed pass signs admin1 in: the first step of the rollout.
	res := postJSON(t, srv.URL+"/signin/tap", `{"userPrincipalName":"admin1@lab.example","temporaryAccessPass":"`+pass[1]+`"}`)
	if !strings.Contains(res, `"sessionToken"`) {
		t.Fatalf("TAP sign-in with the printed pass: %s", res)
	}
	// A second run changes nothing.
	out.Reset()
	if err := labCommand(args, &out, &errOut); err != nil || !strings.Contains(out.String(), "changes nothing") {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if n, err := countUsers(ctx, srv.Config.DatabaseURL); err != nil || n == 0 {
		t.Fatal(n, err)
	}
}

func postJSON(t *testing.T, url, body string) string {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return string(raw)
}
