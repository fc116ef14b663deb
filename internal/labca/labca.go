// Package labca keeps the lab's attestation CA in the data folder, beside
// the master key: made on the server's first start, trusted by the server,
// and used by the virtual authenticators of `rpserver phone` and
// `rpserver loadtest`, so an attestation-enforced passkey profile accepts the
// lab's own authenticators without any setup, and refuses every other root.
//
// The key is a lab secret (whoever holds it can mint "trusted"
// attestations): it is written owner-only, and only a lab should trust the
// certificate (serve -lab-ca=false turns it off).
package labca

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rpserver/rpserver/virtualauthn"
)

// File names in the data folder.
const (
	CertFile = "lab-ca.pem"
	KeyFile  = "lab-ca-key.pem"
)

// Paths returns the certificate and key paths in dataDir.
func Paths(dataDir string) (cert, key string) {
	return filepath.Join(dataDir, CertFile), filepath.Join(dataDir, KeyFile)
}

// Ensure loads the lab CA from dataDir, making it when neither file exists.
// created says whether it was made now.
func Ensure(dataDir string) (ca *virtualauthn.TestCA, certPath string, created bool, err error) {
	certPath, keyPath := Paths(dataDir)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	if errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist) {
		ca, err := create(dataDir)
		return ca, certPath, err == nil, err
	}
	ca, err = Load(dataDir)
	return ca, certPath, false, err
}

// Load reads the lab CA a server made in dataDir; the error names the
// folder and the fix.
func Load(dataDir string) (*virtualauthn.TestCA, error) {
	certPath, keyPath := Paths(dataDir)
	cert, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("lab CA: %w (rpserver serve makes it in its data folder on first start: pass the server's -data-dir, or -ca-cert/-ca-key)", err)
	}
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("lab CA: %w (pass the server's -data-dir, or -ca-cert/-ca-key)", err)
	}
	ca, err := virtualauthn.LoadTestCA(cert, key)
	if err != nil {
		return nil, fmt.Errorf("lab CA in %s: %w", dataDir, err)
	}
	return ca, nil
}

func create(dataDir string) (*virtualauthn.TestCA, error) {
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, fmt.Errorf("lab CA: data folder: %w", err)
	}
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		return nil, err
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	certPath, keyPath := Paths(dataDir)
	// The key first: a certificate without its key would be a CA nobody can
	// use, and O_EXCL never overwrites a CA a server already trusts.
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, ca.RootPEM(), 0o644); err != nil {
		_ = os.Remove(keyPath)
		return nil, err
	}
	return ca, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("lab CA: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("lab CA: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
