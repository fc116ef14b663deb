package virtualauthn

import (
	"slices"
	"time"
)

// CredentialInfo describes a held credential without its private key: what
// a tool lists to show or pick credentials.
type CredentialInfo struct {
	ID         []byte
	RPID       string
	UserHandle []byte // nil unless the credential is resident
	Resident   bool
	SignCount  uint32 // the last counter value signed
	Created    time.Time
}

// Credentials lists the held credentials, oldest first.
func (a *Authenticator) Credentials() []CredentialInfo {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]CredentialInfo, 0, len(a.order))
	for _, c := range a.order {
		info := CredentialInfo{ID: c.id, RPID: c.rpID, Resident: c.resident, SignCount: c.counter.Load(), Created: c.created}
		if c.resident {
			info.UserHandle = c.userHandle
		}
		out = append(out, info)
	}
	return out
}

// DeleteCredential removes the credential with id, as a user deleting a
// passkey on the device does; it reports whether one was held.
func (a *Authenticator) DeleteCredential(id []byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.creds[string(id)]
	if !ok {
		return false
	}
	delete(a.creds, string(id))
	a.order = slices.DeleteFunc(a.order, func(x *credential) bool { return x == c })
	return true
}
