package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/phone"
	"github.com/rpserver/rpserver/virtualauthn"
)

const phoneUsage = `Usage: rpserver phone -upn UPN -store FILE [-preset NAME] [flags] ACTION [action flags]

Acts as one user's phone (a virtual authenticator) against a running rpserver,
keeping its passkeys, counters and push device token in FILE (mode 0600)
between calls. Attestations are signed by the lab CA of the server's data folder.

Actions:
  register -tap PASS [-name NAME] [-push=true|false]
        redeem a Temporary Access Pass, register a passkey (and, for the
        Microsoft Authenticator presets, the push method)
  signin [-app APP_ID] [-password PASS] [-fresh]
        sign in through the sign-in flow (Conditional Access applies) with the
        passkey, or with the password (then this phone's push when prompted);
        the session is kept, so the next sign-in shows "Previously satisfied"
        unless -fresh; exit status 1 when the sign-in does not complete
  approve-push -number N [-request ID] [-deny]
        answer the pending push (default the newest) with the number the
        sign-in screen shows

Flags:
`

func runPhone(args []string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return phoneCommand(ctx, args, os.Stdout, os.Stderr)
}

func phoneCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("phone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, phoneUsage); fs.PrintDefaults() }
	upn := fs.String("upn", "", "whose phone this is (required on first use; then the store's)")
	preset := fs.String("preset", "", "authenticator model: "+strings.Join(loadgen.PresetNames(), ", ")+" (default the store's, else ms-ios)")
	storePath := fs.String("store", "", "file keeping the phone's passkeys, counters and device token (mode 0600; required)")
	dataDir := fs.String("data-dir", envOr("RPSERVER_DATA_DIR", config.DefaultDataDir()), "the server's data folder: its lab CA signs attestations, its server.json gives -target and -origin (RPSERVER_DATA_DIR)")
	target := fs.String("target", os.Getenv("RPSERVER_TARGET"), "server base URL (RPSERVER_TARGET; default the running server's, from server.json, else http://127.0.0.1:8080)")
	origin := fs.String("origin", "", "origin the browser half claims (default the server's first origin)")
	caCert := fs.String("ca-cert", "", "attestation CA certificate PEM (with -ca-key) instead of the lab CA")
	caKey := fs.String("ca-key", "", "private key PEM of -ca-cert")
	asJSON := fs.Bool("json", false, "print the server's answer as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("phone: an action is required: register, signin or approve-push")
	}
	action, rest := fs.Arg(0), fs.Args()[1:]

	rt, _, err := config.ReadRuntime(*dataDir)
	if err != nil {
		return err
	}
	if *target == "" {
		*target = rt.URL
	}
	if *target == "" {
		*target = "http://127.0.0.1:8080"
	}
	if *origin == "" && len(rt.Origins) > 0 {
		*origin = rt.Origins[0]
	}
	if *origin == "" {
		u, err := url.Parse(*target)
		if err != nil || u.Host == "" {
			return fmt.Errorf("phone: -target %q is not a URL", *target)
		}
		*origin = u.Scheme + "://localhost:" + u.Port()
	}
	var ca *virtualauthn.TestCA
	if *caCert != "" || *caKey != "" {
		if ca, err = loadTestCA(*caCert, *caKey); err != nil {
			return err
		}
	} else if ca, err = labca.Load(*dataDir); err != nil {
		return fmt.Errorf("phone: %w", err)
	}
	p, err := phone.Open(phone.Config{Target: *target, Origin: *origin, StorePath: *storePath, UPN: *upn, Preset: *preset, CA: ca})
	if err != nil {
		return err
	}

	af := flag.NewFlagSet("phone "+action, flag.ContinueOnError)
	af.SetOutput(stderr)
	switch action {
	case "register":
		tap := af.String("tap", "", "the Temporary Access Pass (required)")
		name := af.String("name", "", "the passkey's name (default the model's)")
		push := af.Bool("push", strings.HasPrefix(p.Preset(), "ms-"), "also register the Authenticator app's push method (default on for ms-ios and ms-android)")
		if err := parseAction(af, rest); err != nil {
			return err
		}
		reg, err := p.Register(ctx, phone.RegisterOptions{TAP: *tap, DisplayName: *name, Push: *push})
		if reg != nil && reg.Passkey.ID != "" {
			printRegistered(stdout, *asJSON, p, *storePath, reg)
		}
		return err
	case "signin":
		app := af.String("app", "", "application id (default the lab portal)")
		password := af.String("password", "", "sign in with this password (then the phone's push when prompted) instead of the passkey")
		fresh := af.Bool("fresh", false, "forget the kept session: nothing is previously satisfied")
		if err := parseAction(af, rest); err != nil {
			return err
		}
		out, err := p.SignIn(ctx, phone.SignInOptions{AppID: *app, Password: *password, Fresh: *fresh})
		if err != nil {
			return err
		}
		printOutcome(stdout, *asJSON, out)
		if out.Status != "completed" {
			return fmt.Errorf("sign-in not completed: %s %s", out.Status, out.ErrorCode)
		}
		return nil
	case "approve-push":
		number := af.Int("number", 0, "the number the sign-in screen shows (required unless -deny)")
		request := af.String("request", "", "push request id (default the newest pending)")
		deny := af.Bool("deny", false, "deny the sign-in instead")
		if err := parseAction(af, rest); err != nil {
			return err
		}
		push, err := p.ApprovePush(ctx, *number, *request, *deny)
		if err != nil {
			return err
		}
		verb := "approved"
		if *deny {
			verb = "denied"
		}
		fmt.Fprintf(stdout, "push %s %s (sign-in to %s)\n", push.PushRequestID, verb, push.ApplicationName)
		return nil
	default:
		return fmt.Errorf("phone: unknown action %q: want register, signin or approve-push", action)
	}
}

func parseAction(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func printRegistered(w io.Writer, asJSON bool, p *phone.Phone, store string, r *phone.Registered) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(map[string]any{"passkey": r.Passkey, "pushRegistered": r.PushRegistered})
		return
	}
	a := r.Passkey.Attestation
	trust := "not trusted"
	if a.Trusted {
		trust = "trusted"
	}
	fmt.Fprintf(w, "registered passkey %q for %s\n", r.Passkey.DisplayName, p.UPN())
	fmt.Fprintf(w, "  model:        %s (%s)\n", r.Passkey.Model, r.Passkey.AAGUID)
	fmt.Fprintf(w, "  type:         %s, attestation %s %s\n", r.Passkey.PasskeyType, a.Format, trust)
	fmt.Fprintf(w, "  method id:    %s\n", r.Passkey.ID)
	if r.PushRegistered {
		fmt.Fprintf(w, "  push:         Microsoft Authenticator registered (approve-push answers pushes)\n")
	}
	fmt.Fprintf(w, "  store:        %s\n", store)
}

func printOutcome(w io.Writer, asJSON bool, o *phone.Outcome) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(o)
		return
	}
	fmt.Fprintf(w, "sign-in %s for %s (%s)\n", o.Status, o.UserPrincipalName, strings.Join(o.MethodsSatisfied, " + "))
	if o.ErrorCode != "" {
		fmt.Fprintf(w, "  %s: %s\n", o.ErrorCode, o.Message)
	}
	if s := o.SignIn; s != nil {
		for _, d := range s.AuthenticationDetails {
			fmt.Fprintf(w, "  step: %s: %s\n", d.AuthenticationMethod, d.AuthenticationStepResultDetail)
		}
		fmt.Fprintf(w, "  conditional access: %s\n", s.ConditionalAccessStatus)
		for _, p := range s.AppliedConditionalAccessPolicies {
			fmt.Fprintf(w, "    %s: %s\n", p.DisplayName, p.Result)
		}
		fmt.Fprintf(w, "  sign-in log:  %s (errorCode %d)\n", s.ID, s.Status.ErrorCode)
	}
}
