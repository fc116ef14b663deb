// Package labtls makes what a lab needs to serve WebAuthn over HTTPS on a
// real RP ID: a local certificate authority and a server certificate for
// the RP ID, which a laptop and a phone can be told to trust (rpserver lab
// tls). Browsers allow WebAuthn only in a secure context, so any RP ID other
// than localhost needs a certificate the browser trusts.
//
// Why the choices:
//
//   - The CA is name-constrained to the RP ID (and the listed IPs): a phone
//     that trusts it for the lab cannot be served a forged certificate for
//     any other site by whoever holds the CA key.
//   - One CA per RP ID, kept in its folder and reused, so issuing a new
//     server certificate (another address, a renewal) does not mean
//     trusting a new CA on every device.
//   - ECDSA P-256 and a server validity of 397 days with the serverAuth
//     usage and SANs: what iOS, macOS and Chrome accept from a user-trusted
//     CA (Apple refuses longer-lived TLS certificates).
//   - Keys are written 0600 and never overwritten by surprise.
package labtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names in the folder.
const (
	CAFile      = "ca.pem"
	CAKeyFile   = "ca-key.pem"
	CertFile    = "server.pem" // leaf then CA: serve sends the chain
	KeyFile     = "server-key.pem"
	ServerValid = 397 * 24 * time.Hour
	CAValid     = 5 * 365 * 24 * time.Hour
)

// Files are the paths written.
type Files struct {
	Dir, CA, CAKey, Cert, Key string
	// CACreated says the CA is new (devices must be told to trust it).
	CACreated bool
	// SPKIHash is base64(SHA-256(SubjectPublicKeyInfo)) of the server key,
	// the value Chromium's --ignore-certificate-errors-spki-list takes.
	SPKIHash string
	NotAfter time.Time
}

// Options of Generate.
type Options struct {
	RPID  string   // the WebAuthn RP ID, a domain: the certificate's first name
	Hosts []string // more DNS names (subdomains of RPID, since the CA is constrained to it)
	IPs   []net.IP // addresses the server is also reached at
	Now   time.Time
}

// Generate makes (or reuses) the CA in dir and issues a new server
// certificate for opts, replacing the previous server pair.
func Generate(dir string, opts Options) (Files, error) {
	rpID := strings.ToLower(strings.TrimSpace(opts.RPID))
	if rpID == "" || strings.ContainsAny(rpID, ":/ *") || net.ParseIP(rpID) != nil {
		return Files{}, fmt.Errorf("RP ID %q: want a domain such as passkeys.lab.example", opts.RPID)
	}
	for _, h := range opts.Hosts {
		h = strings.ToLower(h)
		if h != rpID && !strings.HasSuffix(h, "."+rpID) {
			return Files{}, fmt.Errorf("host %q: must be %s or a subdomain of it (the CA is constrained to the RP ID)", h, rpID)
		}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, err
	}
	f := Files{Dir: dir, CA: filepath.Join(dir, CAFile), CAKey: filepath.Join(dir, CAKeyFile), Cert: filepath.Join(dir, CertFile), Key: filepath.Join(dir, KeyFile)}
	caCert, caKey, created, err := loadOrCreateCA(f, rpID, opts)
	if err != nil {
		return Files{}, err
	}
	f.CACreated = created
	for _, ip := range opts.IPs {
		if !ipPermitted(caCert, ip) {
			return Files{}, fmt.Errorf("address %s is not among the CA's permitted addresses %v: make a new folder (a new CA) for it", ip, caCert.PermittedIPRanges)
		}
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, err
	}
	names := append([]string{rpID}, opts.Hosts...)
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: rpID, Organization: []string{"rpserver lab"}},
		DNSNames: names, IPAddresses: opts.IPs,
		NotBefore: opts.Now.Add(-time.Hour), NotAfter: opts.Now.Add(ServerValid),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return Files{}, fmt.Errorf("server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Files{}, err
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})...)
	// The key first, then the certificate, each replaced atomically, so a
	// serve reloading in between never pairs a new cert with an old key
	// for long (and Reload refuses a mismatched pair anyway).
	if err := writeAtomic(f.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return Files{}, err
	}
	if err := writeAtomic(f.Cert, chain, 0o644); err != nil {
		return Files{}, err
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(spki)
	f.SPKIHash, f.NotAfter = base64.StdEncoding.EncodeToString(sum[:]), tmpl.NotAfter
	return f, nil
}

func loadOrCreateCA(f Files, rpID string, opts Options) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certPEM, certErr := os.ReadFile(f.CA)
	keyPEM, keyErr := os.ReadFile(f.CAKey)
	switch {
	case certErr == nil && keyErr == nil:
		cert, key, err := parseCA(certPEM, keyPEM)
		if err != nil {
			return nil, nil, false, fmt.Errorf("CA in %s: %w", f.Dir, err)
		}
		if len(cert.PermittedDNSDomains) != 1 || cert.PermittedDNSDomains[0] != rpID {
			return nil, nil, false, fmt.Errorf("the CA in %s is for %v, not %s: use another folder", f.Dir, cert.PermittedDNSDomains, rpID)
		}
		return cert, key, false, nil
	case !errors.Is(certErr, os.ErrNotExist) || !errors.Is(keyErr, os.ErrNotExist):
		return nil, nil, false, fmt.Errorf("CA in %s: one of %s, %s is missing or unreadable; remove both to start over", f.Dir, CAFile, CAKeyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "rpserver lab CA for " + rpID, Organization: []string{"rpserver lab"}},
		NotBefore: opts.Now.Add(-time.Hour), NotAfter: opts.Now.Add(CAValid),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
		PermittedDNSDomainsCritical: true, PermittedDNSDomains: []string{rpID},
	}
	for _, ip := range opts.IPs {
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	if len(opts.IPs) == 0 {
		// No address named: the CA may vouch for none (an unconstrained
		// name type would let it vouch for every address).
		tmpl.ExcludedIPRanges = []*net.IPNet{{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, {IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, false, err
	}
	if err := writeNew(f.CAKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, nil, false, err
	}
	if err := writeNew(f.CA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, false, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, true, err
}

func parseCA(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("the key does not belong to the certificate")
	}
	return cert, key, nil
}

func ipPermitted(ca *x509.Certificate, ip net.IP) bool {
	for _, r := range ca.PermittedIPRanges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// writeNew never replaces a file: a CA someone trusts must not change
// under them.
func writeNew(path string, data []byte, mode os.FileMode) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
