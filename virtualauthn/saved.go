package virtualauthn

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// SavedCredential is one credential as it leaves the authenticator, so a
// tool acting as a user's phone across separate runs (rpserver phone) keeps
// the same passkey and its counter. PrivateKey is the credential's secret:
// whoever stores it stores a passkey, so keep it owner-only.
type SavedCredential struct {
	ID         []byte    `json:"id"`
	RPID       string    `json:"rpId"`
	UserHandle []byte    `json:"userHandle,omitempty"`
	Resident   bool      `json:"resident"`
	PrivateKey []byte    `json:"privateKeyPkcs8"`
	SignCount  uint32    `json:"signCount"`
	Created    time.Time `json:"created"`
}

// Export returns every credential with its current counter, oldest first.
func (a *Authenticator) Export() ([]SavedCredential, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]SavedCredential, 0, len(a.order))
	for _, c := range a.order {
		der, err := x509.MarshalPKCS8PrivateKey(c.key)
		if err != nil {
			return nil, fmt.Errorf("virtualauthn: export credential: %w", err)
		}
		out = append(out, SavedCredential{
			ID: c.id, RPID: c.rpID, UserHandle: c.userHandle, Resident: c.resident,
			PrivateKey: der, SignCount: c.counter.Load(), Created: c.created,
		})
	}
	return out, nil
}

// Import adds saved credentials (as Export returned them) to a; a
// credential whose ID a already holds is refused, so a store cannot silently
// roll a counter back.
func (a *Authenticator) Import(saved ...SavedCredential) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range saved {
		if len(s.ID) == 0 || s.RPID == "" {
			return errors.New("virtualauthn: saved credential without id or rpId")
		}
		if _, dup := a.creds[string(s.ID)]; dup {
			return fmt.Errorf("virtualauthn: credential %x is already held", s.ID)
		}
		k, err := x509.ParsePKCS8PrivateKey(s.PrivateKey)
		if err != nil {
			return fmt.Errorf("virtualauthn: saved credential key: %w", err)
		}
		key, ok := k.(crypto.Signer)
		if !ok {
			return fmt.Errorf("virtualauthn: saved credential key is %T, not a signing key", k)
		}
		alg, err := algOf(key)
		if err != nil {
			return err
		}
		c := &credential{id: s.ID, key: key, alg: alg, rpID: s.RPID, userHandle: s.UserHandle, resident: s.Resident, created: s.Created}
		c.counter.Store(s.SignCount)
		a.creds[string(c.id)] = c
		a.order = append(a.order, c)
	}
	return nil
}
