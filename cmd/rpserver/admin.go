package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/oidc"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/tokens"
)

type roleList []string

func (r *roleList) String() string     { return strings.Join(*r, ",") }
func (r *roleList) Set(v string) error { *r = append(*r, v); return nil }

func runAdmin(args []string) error {
	if len(args) > 0 && args[0] == "rotate-oidc-key" {
		return runRotateOIDCKey(args[1:])
	}
	if len(args) == 0 || args[0] != "token" {
		return errors.New("usage: rpserver admin token --upn UPN [--role NAME] | rpserver admin rotate-oidc-key [-alg RS256|ES256]")
	}
	var upn string
	var roles roleList
	c, err := loadConfig("admin token", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&upn, "upn", "", "user principal name of the admin (created when missing)")
		fs.Var(&roles, "role", "Entra role to assign and put in the token (repeatable; default Global Administrator)")
	})
	if err != nil {
		return err
	}
	if upn == "" {
		return errors.New("admin token: --upn is required")
	}
	if len(roles) == 0 {
		roles = roleList{directory.RoleGlobalAdministrator}
	}
	ctx := context.Background()
	dsn, err := serverDatabase(ctx, c, "admin token")
	if err != nil {
		return err
	}
	if err := c.AdoptRunningIssuer(); err != nil {
		return err
	}
	tok, err := bootstrapAdminToken(ctx, c, dsn, upn, roles)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// bootstrapAdminToken makes sure the user exists and holds the roles, then
// mints a token carrying every role the user holds.
func bootstrapAdminToken(ctx context.Context, c config.Config, dsn, upn string, roles []string) (string, error) {
	if _, _, err := store.Migrate(ctx, dsn); err != nil {
		return "", err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	dir := &directory.Service{Store: db.Directory()}
	u, err := dir.Store.GetUserByUPN(ctx, upn)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		u, err = dir.CreateUser(ctx, directory.User{UserPrincipalName: upn, DisplayName: strings.Split(upn, "@")[0], AccountEnabled: true}, "")
	}
	if err != nil {
		return "", err
	}
	for _, name := range roles {
		role, ok := directory.RoleByName(name)
		if !ok {
			return "", fmt.Errorf("unknown role %q", name)
		}
		_, err := dir.AssignRole(ctx, directory.RoleAssignment{PrincipalID: u.ID, RoleDefinitionID: role.ID})
		if err != nil && apperr.CodeOf(err) != directory.CodeDuplicateAssignment {
			return "", err
		}
	}
	held, err := dir.RoleNamesOf(ctx, u.ID)
	if err != nil {
		return "", err
	}
	key, err := c.LoadMasterKey()
	if err != nil {
		return "", err
	}
	sealer, err := tokens.NewSealer(key)
	if err != nil {
		return "", err
	}
	iss, err := tokens.NewIssuer(ctx, db.Keys(), sealer, c.Issuer)
	if err != nil {
		return "", err
	}
	wids := make([]string, 0, len(held))
	for _, n := range held {
		r, _ := directory.RoleByName(n)
		wids = append(wids, r.ID)
	}
	return iss.Mint(tokens.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: u.ID},
		UPN:              u.UserPrincipalName, Name: u.DisplayName, Roles: held, Wids: wids,
	}, tokens.AudienceAdmin, c.AdminTokenTTL)
}

// runRotateOIDCKey makes a new signing key for the OpenID Connect provider;
// the old one stays in the JWKS for a day, so tokens it signed still verify.
func runRotateOIDCKey(args []string) error {
	var alg string
	c, err := loadConfig("admin rotate-oidc-key", args, func(fs *flag.FlagSet) {
		fs.StringVar(&alg, "alg", "RS256", "which key to rotate: RS256 or ES256")
	})
	if err != nil {
		return err
	}
	if alg != "RS256" && alg != "ES256" {
		return fmt.Errorf("admin rotate-oidc-key: -alg must be RS256 or ES256, not %q", alg)
	}
	ctx := context.Background()
	dsn, err := serverDatabase(ctx, c, "admin rotate-oidc-key")
	if err != nil {
		return err
	}
	if _, _, err := store.Migrate(ctx, dsn); err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := c.LoadMasterKey()
	if err != nil {
		return err
	}
	sealer, err := tokens.NewSealer(key)
	if err != nil {
		return err
	}
	kid, err := oidc.RotateKey(ctx, db.OIDC(), sealer, alg)
	if err != nil {
		return err
	}
	fmt.Printf("new %s key %s is active; the previous one stays published for 24h\n", alg, kid)
	return nil
}
