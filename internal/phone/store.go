package phone

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rpserver/rpserver/virtualauthn"
)

// storeVersion is bumped when the file's shape changes incompatibly.
const storeVersion = 1

// Store is the phone's memory between runs: whose phone it is, which
// authenticator model, the passkeys with their keys and counters, and the
// Authenticator app's device token. Every field but the preset is a secret
// or identifies one, so the file is owner-only (0600).
type Store struct {
	Version           int                            `json:"version"`
	UserPrincipalName string                         `json:"userPrincipalName"`
	Preset            string                         `json:"preset"`
	Credentials       []virtualauthn.SavedCredential `json:"credentials"`
	// DeviceToken proves this phone to /authenticator/push/*; empty until
	// the push method is registered.
	DeviceToken string `json:"deviceToken,omitempty"`
	// SessionToken is the browser's session cookie from the last completed
	// sign-in: sent with the next one, its methods count as "Previously
	// satisfied", as in a browser that stays signed in.
	SessionToken string `json:"sessionToken,omitempty"`
}

// LoadStore reads path; a missing file is an empty store (ok false).
func LoadStore(path string) (st *Store, ok bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Store{Version: storeVersion}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("phone store: %w", err)
	}
	st = &Store{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, false, fmt.Errorf("phone store %s: not a phone store: %w", path, err)
	}
	if st.Version != storeVersion {
		return nil, false, fmt.Errorf("phone store %s: version %d, this rpserver reads version %d", path, st.Version, storeVersion)
	}
	return st, true, nil
}

// Save writes the store atomically (a temporary file renamed over path), so
// an interrupted run never leaves half a key behind, with mode 0600.
func (s *Store) Save(path string) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".phone-*.tmp")
	if err != nil {
		return fmt.Errorf("phone store: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("phone store: %w", err)
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("phone store: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("phone store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("phone store: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("phone store: %w", err)
	}
	return nil
}
