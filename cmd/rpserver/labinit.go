package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/store"
)

// labTenant is the article's starting tenant: who exists before the rollout.
var labTenant = struct {
	users  []labUser
	groups []labGroup
}{
	users: []labUser{
		{"breakglass1", "Emergency access 1", true, nil},
		{"breakglass2", "Emergency access 2", true, nil},
		{"admin2", "Admin Two", false, []string{directory.RoleConditionalAccessAdministrator, directory.RoleAuthenticationPolicyAdministrator}},
		{"helpdesk1", "Helpdesk One", false, []string{directory.RoleHelpdeskAdministrator}},
		{"alice", "Alice (Finance)", false, nil},
		{"bob", "Bob (Finance)", false, nil},
		{"carol", "Carol (HR)", false, nil},
		{"dave", "Dave (Legal)", false, nil},
		{"erin", "Erin (Executive)", false, nil},
		{"frank", "Frank", false, nil},
	},
	groups: []labGroup{
		{"GRP-Emergency-Access", []string{"breakglass1", "breakglass2"}},
		{"GRP-Pilot-Passkey-Admins", []string{"admin1", "admin2"}},
		{"GRP-Wave1-IT-Admins", []string{"admin1", "admin2"}},
		{"GRP-Wave2-Helpdesk", []string{"helpdesk1"}},
		{"GRP-Wave3-Finance-HR-Legal", []string{"alice", "bob", "carol", "dave"}},
		{"GRP-Wave4-Executives", []string{"erin"}},
		{"GRP-Wave5-All-Users", []string{"admin1", "admin2", "helpdesk1", "alice", "bob", "carol", "dave", "erin", "frank"}},
	},
}

type labUser struct {
	name, displayName string
	emergency         bool
	roles             []string
}

type labGroup struct {
	name    string
	members []string
}

const labInitUsage = `Usage: rpserver lab init [-domain lab.example] [-url URL] [serve's -data-dir or -database-url]

Creates the rollout article's starting tenant in the running server: two
emergency-access accounts in GRP-Emergency-Access, a Global Administrator
(admin1) and other admins and users, the wave groups (pilot admins, IT
admins, helpdesk, Finance/HR/Legal, executives, everyone), passkeys and TAP
enabled for the pilot group, and a one-time TAP for admin1, printed with
the URL to open. It changes nothing in a tenant that already has users.

`

func labInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var domain, base string
	c, err := loadConfig("lab init", args, func(fs *flag.FlagSet) {
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprint(stderr, labInitUsage); fs.PrintDefaults() }
		fs.StringVar(&domain, "domain", "lab.example", "the tenant's domain: users are NAME@DOMAIN")
		fs.StringVar(&base, "url", "", "the running server's URL (default: the one serve wrote in <data-dir>/server.json)")
	})
	if err != nil {
		return err
	}
	dsn, err := serverDatabase(ctx, c, "lab init")
	if err != nil {
		return err
	}
	if err := c.AdoptRunningIssuer(); err != nil {
		return err
	}
	rt, running, err := config.ReadRuntime(c.DataDir)
	if err != nil {
		return fmt.Errorf("lab init: %w", err)
	}
	if base == "" {
		if !running || rt.URL == "" {
			return fmt.Errorf("lab init: no running server found in %s: start it (scripts/run.sh) or pass -url", c.DataDir)
		}
		base = rt.URL
	}
	origin := c.Origins[0]
	if running && len(rt.Origins) > 0 && !c.IssuerExplicit {
		origin = rt.Origins[0] // where the running server's pages are
	}
	return fillLabTenant(ctx, c, dsn, base, origin, domain, stdout)
}

// fillLabTenant creates the starting tenant through the server at base, as
// its first admin, and prints admin1's one-time TAP and the URL to open; on a
// tenant that has users it changes nothing. serve -lab-init calls it too.
func fillLabTenant(ctx context.Context, c config.Config, dsn, base, origin, domain string, stdout io.Writer) error {
	n, err := countUsers(ctx, dsn)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "The tenant already has users: lab init changes nothing (it only fills an empty tenant).\n")
		return nil
	}
	admin1 := "admin1@" + domain
	tok, err := bootstrapAdminToken(ctx, c, dsn, admin1, []string{directory.RoleGlobalAdministrator})
	if err != nil {
		return err
	}
	api := &labClient{base: strings.TrimRight(base, "/"), token: tok, hc: &http.Client{Timeout: 30 * time.Second}}
	var admin struct {
		ID string `json:"id"`
	}
	if err := api.call(ctx, "GET", "/v1.0/users/"+url.PathEscape(admin1), nil, 200, &admin); err != nil {
		return err
	}
	ids := map[string]string{"admin1": admin.ID}
	for _, u := range labTenant.users {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"userPrincipalName": u.name + "@" + domain, "displayName": u.displayName, "accountEnabled": true, "isEmergencyAccess": u.emergency}
		if err := api.call(ctx, "POST", "/v1.0/users", body, 201, &out); err != nil {
			return fmt.Errorf("lab init: user %s: %w", u.name, err)
		}
		ids[u.name] = out.ID
		for _, role := range u.roles {
			if err := api.call(ctx, "POST", "/v1.0/roleManagement/directory/roleAssignments", map[string]any{
				"principalId": out.ID, "roleDefinitionId": role, "directoryScopeId": "/"}, 201, nil); err != nil {
				return fmt.Errorf("lab init: role %s for %s: %w", role, u.name, err)
			}
		}
	}
	groups := map[string]string{}
	for _, g := range labTenant.groups {
		var out struct {
			ID string `json:"id"`
		}
		if err := api.call(ctx, "POST", "/v1.0/groups", map[string]any{"displayName": g.name, "mailEnabled": false,
			"mailNickname": strings.ToLower(strings.ReplaceAll(g.name, "-", "")), "securityEnabled": true}, 201, &out); err != nil {
			return fmt.Errorf("lab init: group %s: %w", g.name, err)
		}
		groups[g.name] = out.ID
		for _, m := range g.members {
			ref := map[string]string{"@odata.id": api.base + "/v1.0/directoryObjects/" + ids[m]}
			if err := api.call(ctx, "POST", "/v1.0/groups/"+out.ID+"/members/$ref", ref, 204, nil); err != nil {
				return fmt.Errorf("lab init: %s into %s: %w", m, g.name, err)
			}
		}
	}
	pilot := []map[string]any{{"id": groups["GRP-Pilot-Passkey-Admins"], "targetType": "group", "isRegistrationRequired": false}}
	const configs = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
	if err := api.call(ctx, "PATCH", configs+"fido2", map[string]any{"state": "enabled", "isSelfServiceRegistrationAllowed": true, "includeTargets": pilot}, 204, nil); err != nil {
		return fmt.Errorf("lab init: passkeys for the pilot: %w", err)
	}
	if err := api.call(ctx, "PATCH", configs+"temporaryAccessPass", map[string]any{"state": "enabled", "isUsableOnce": true, "defaultLifetimeInMinutes": 60, "includeTargets": pilot}, 204, nil); err != nil {
		return fmt.Errorf("lab init: TAP for the pilot: %w", err)
	}
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	if err := api.call(ctx, "POST", "/v1.0/users/"+admin.ID+"/authentication/temporaryAccessPassMethods", map[string]any{}, 201, &tap); err != nil {
		return fmt.Errorf("lab init: TAP for admin1: %w", err)
	}
	fmt.Fprintf(stdout, "The lab tenant is ready: %d users (2 emergency-access accounts in GRP-Emergency-Access), %d groups, passkeys and TAP on for GRP-Pilot-Passkey-Admins.\n\n",
		len(ids), len(groups))
	fmt.Fprintf(stdout, "Open %s/ and sign in as %s with this one-time Temporary Access Pass (valid 60 minutes):\n\n    %s\n\n", origin, admin1, tap.Pass)
	fmt.Fprintf(stdout, "then register a passkey in Security info (or, as the admin's phone: rpserver phone -upn %s -store admin1.phone register -tap '%s').\n", admin1, tap.Pass)
	return nil
}

func countUsers(ctx context.Context, dsn string) (int, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	users, _, err := db.Directory().ListUsers(ctx, directory.Query{Page: directory.Page{Top: 1}})
	return len(users), err
}

// labClient calls the running server's Graph-shaped API as admin1, so every
// change lab init makes is an ordinary, audited admin change.
type labClient struct {
	base, token string
	hc          *http.Client
}

func (l *labClient) call(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := l.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != want {
		return errors.New(method + " " + path + ": " + res.Status + ": " + strings.TrimSpace(string(raw)))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
