package labtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"testing"
	"time"
)

func TestGenerateVerifiesForTheRPIDOnly(t *testing.T) {
	dir := t.TempDir()
	f, err := Generate(dir, Options{RPID: "Passkeys.Lab.Example", Hosts: []string{"login.passkeys.lab.example"}, IPs: []net.IP{net.ParseIP("192.168.1.20")}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.CACreated || f.SPKIHash == "" {
		t.Fatalf("files %+v", f)
	}
	for _, k := range []string{f.CAKey, f.Key} {
		if st, err := os.Stat(k); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", k, err, st.Mode())
		}
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	caPEM, _ := os.ReadFile(f.CA)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	for _, name := range []string{"passkeys.lab.example", "login.passkeys.lab.example", "192.168.1.20"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) > 398*24*time.Hour || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("leaf validity %s, EKU %v", leaf.NotAfter.Sub(leaf.NotBefore), leaf.ExtKeyUsage)
	}

	// Whoever holds the CA key cannot use it for another site: a
	// certificate for bank.example signed by it does not verify.
	caCert, caKey, err := parseCA(caPEM, must(os.ReadFile(f.CAKey)))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, forged := range []*x509.Certificate{
		{SerialNumber: serial(), Subject: pkix.Name{CommonName: "bank.example"}, DNSNames: []string{"bank.example"}},
		{SerialNumber: serial(), Subject: pkix.Name{CommonName: "10.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}},
	} {
		forged.NotBefore, forged.NotAfter, forged.ExtKeyUsage = time.Now().Add(-time.Hour), time.Now().Add(time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		der, err := x509.CreateCertificate(rand.Reader, forged, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		name := forged.Subject.CommonName
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err == nil {
			t.Errorf("a certificate for %s from the lab CA verified", name)
		}
	}

	// A second run reuses the CA (devices keep trusting it) and replaces
	// the server pair; another RP ID in the same folder is refused.
	g, err := Generate(dir, Options{RPID: "passkeys.lab.example"})
	if err != nil || g.CACreated || g.SPKIHash == f.SPKIHash {
		t.Fatalf("second run %+v %v", g, err)
	}
	if caPEM2, _ := os.ReadFile(g.CA); string(caPEM2) != string(caPEM) {
		t.Fatal("the CA changed")
	}
	if _, err := Generate(dir, Options{RPID: "other.example"}); err == nil {
		t.Fatal("another RP ID accepted in the same folder")
	}
	if _, err := Generate(dir, Options{RPID: "passkeys.lab.example", IPs: []net.IP{net.ParseIP("10.9.9.9")}}); err == nil {
		t.Fatal("an address outside the CA's constraints accepted")
	}
	for _, bad := range []Options{{RPID: ""}, {RPID: "https://x.example"}, {RPID: "10.0.0.1"}, {RPID: "a.example", Hosts: []string{"b.example"}}} {
		if _, err := Generate(t.TempDir(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
