// Command rpserver is the lab FIDO2/WebAuthn relying party: one binary with
// the subcommands serve, migrate, admin, inspect, loadtest, phone,
// authenticator and lab.
package main

import (
	"fmt"
	"os"
)

const usage = `rpserver: a self-hosted FIDO2/WebAuthn relying party that replays an Entra ID passkey rollout.

Usage:
  rpserver serve    [flags]   run the server (starts a throwaway PostgreSQL when DATABASE_URL is empty)
  rpserver migrate  [flags]   apply database migrations and exit
  rpserver admin token --upn UPN [--role NAME]...   print an admin bearer token (creates the user and role assignment if needed)
  rpserver admin rotate-oidc-key [-alg RS256|ES256]  new OpenID Connect signing key (the old one stays published 24h)
  rpserver inspect  [flags] [FILE]   verdict on a registration response: attestation, flags, challenge/origin/RP ID, accepted or why not
  rpserver loadtest [flags]          virtual authenticators register and sign in against a running server (loopback only)
  rpserver phone -upn UPN -store FILE ACTION   one user's phone: register -tap PASS, signin, approve-push -number N
  rpserver healthcheck [-url URL]    exit 0 when the running server is ready (/readyz answers 200)
  rpserver authenticator serve [flags]   virtual authenticators over HTTP (loopback) for any tool and any relying party
  rpserver lab tls -rp-id DOMAIN     a local CA and an HTTPS certificate for a real RP ID, and how to trust them on a laptop and a phone

Run "rpserver <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = runServe(args)
	case "migrate":
		err = runMigrate(args)
	case "admin":
		err = runAdmin(args)
	case "inspect":
		os.Exit(runInspect(args, os.Stdin, os.Stdout, os.Stderr))
	case "loadtest":
		err = runLoadtest(args)
	case "lab":
		err = runLab(args)
	case "authenticator":
		err = runAuthenticator(args)
	case "phone":
		err = runPhone(args)
	case "healthcheck":
		err = runHealthcheck(args)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "rpserver: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpserver:", err)
		os.Exit(1)
	}
}
