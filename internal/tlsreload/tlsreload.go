// Package tlsreload serves a certificate and key from files and swaps them
// when told to (serve reloads on SIGHUP), so a renewed certificate takes
// effect without dropping a connection; a broken new pair is refused and
// the old one kept, so a bad renewal cannot take the server off the air.
package tlsreload

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"
)

// Reloader holds the current certificate.
type Reloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// New loads certFile and keyFile (PEM; the certificate file may carry the
// chain after the leaf).
func New(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again; on any error the current pair stays.
func (r *Reloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s / key %s: %w", r.certFile, r.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS certificate %s: %w", r.certFile, err)
	}
	if time.Now().After(leaf.NotAfter) {
		return fmt.Errorf("TLS certificate %s expired on %s", r.certFile, leaf.NotAfter.Format(time.DateOnly))
	}
	c.Leaf = leaf
	r.cur.Store(&c)
	return nil
}

// Leaf is the certificate being served.
func (r *Reloader) Leaf() *x509.Certificate { return r.cur.Load().Leaf }

// GetCertificate is for tls.Config.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// TLSConfig serves the current certificate with TLS 1.2 or later and offers
// HTTP/2 before HTTP/1.1.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate, NextProtos: []string{"h2", "http/1.1"}}
}
