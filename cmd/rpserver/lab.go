package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labtls"
)

const labUsage = `Usage: rpserver lab tls -rp-id DOMAIN [flags]

Makes a local certificate authority (once per RP ID, name-constrained to it)
and a server certificate for DOMAIN, and prints how to serve with it and how
to trust the CA on a laptop and a phone, so a browser, a phone or a USB/NFC
security key can use WebAuthn against a real RP ID on your network.

`

func runLab(args []string) error { return labCommand(args, os.Stdout, os.Stderr) }

func labCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "init" {
		return labInit(context.Background(), args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "tls" {
		fmt.Fprint(stderr, labUsage+labInitUsage)
		return errors.New("lab: the actions are init and tls")
	}
	fs := flag.NewFlagSet("lab tls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, labUsage); fs.PrintDefaults() }
	rpID := fs.String("rp-id", "", "the WebAuthn RP ID and certificate name, e.g. passkeys.lab.example (required)")
	dataDir := fs.String("data-dir", envOr("RPSERVER_DATA_DIR", config.DefaultDataDir()), "data folder; the files go to <data-dir>/tls/<rp-id> unless -dir (RPSERVER_DATA_DIR)")
	dir := fs.String("dir", "", "folder for the CA and the certificate (default <data-dir>/tls/<rp-id>)")
	var hosts, ips listFlag
	fs.Var(&hosts, "host", "another DNS name for the certificate, a subdomain of -rp-id (repeatable)")
	fs.Var(&ips, "ip", "an address the server is also reached at, e.g. the laptop's LAN address 192.168.1.20 (repeatable; fixed when the CA is made)")
	listen := fs.String("listen", "0.0.0.0:8443", "the address serve will listen on, for the printed command")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("lab tls: unexpected argument %q", fs.Arg(0))
	}
	if *rpID == "" {
		return errors.New("lab tls: -rp-id is required, e.g. -rp-id passkeys.lab.example")
	}
	id := strings.ToLower(*rpID)
	if *dir == "" {
		*dir = filepath.Join(*dataDir, "tls", id)
	}
	var addrs []net.IP
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return fmt.Errorf("lab tls: -ip %q is not an IP address", s)
		}
		addrs = append(addrs, ip)
	}
	_, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("lab tls: -listen %q: %w", *listen, err)
	}
	f, err := labtls.Generate(*dir, labtls.Options{RPID: id, Hosts: hosts, IPs: addrs})
	if err != nil {
		return fmt.Errorf("lab tls: %w", err)
	}
	origin := "https://" + id
	if port != "443" {
		origin += ":" + port
	}
	caState := "existing CA reused (devices that trust it need nothing new)"
	if f.CACreated {
		caState = "new: every device must be told to trust it, step 3"
	}
	lan := "<this machine's LAN address>"
	if len(ips) > 0 {
		lan = ips[0]
	}
	fmt.Fprintf(stdout, `CA:          %s (%s)
CA key:      %s (0600; whoever has it can issue certificates for %s only: the CA is name-constrained)
certificate: %s (valid until %s)
key:         %s (0600)

1. Serve on the RP ID (origin %s):

   rpserver serve -listen %s -rp-id %s -tls-cert %s -tls-key %s

   A new certificate later (rpserver lab tls again): kill -HUP <pid of serve> reloads it without a restart.

2. Make %s resolve to this machine (%s) on every device:
   laptop:  echo '%s %s' | sudo tee -a /etc/hosts      (127.0.0.1 on the machine that serves)
   phone:   a DNS entry on your router or a local DNS server (phones have no hosts file)

3. Trust the CA (%s):
   Debian/Ubuntu:  sudo cp %s /usr/local/share/ca-certificates/rpserver-lab-%s.crt && sudo update-ca-certificates
                   Chrome/Chromium on Linux read their own store: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n rpserver-lab -i %s
   macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s
   Windows:        certutil -addstore -f Root %s        (as administrator)
   Firefox:        Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import
   iPhone/iPad:    send %s to the device (AirDrop, mail), open it, Settings > General > VPN & Device Management > install;
                   then Settings > General > About > Certificate Trust Settings > turn on full trust for it
   Android:        copy %s to the phone, Settings > Security > More security settings > Encryption & credentials >
                   Install a certificate > CA certificate (Chrome trusts user-installed CAs; some apps do not)

4. Open %s/ on the laptop or phone. A browser refuses WebAuthn on a page with a certificate error,
   so if the lock icon is not clean, the CA is not trusted yet.
`, f.CA, caState, f.CAKey, id, f.Cert, f.NotAfter.Format("2006-01-02"), f.Key,
		origin, *listen, id, f.Cert, f.Key,
		id, lan, lan, id,
		caState, f.CA, id, f.CA, f.CA, f.CA, f.CA, f.CA,
		origin)
	return nil
}
