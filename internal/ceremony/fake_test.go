package ceremony

import (
	"context"
	"sync"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// memStore is an in-memory Store for unit tests and the I/O-free benchmark;
// the PostgreSQL store is tested against real PostgreSQL in internal/store.
type memStore struct {
	mu         sync.Mutex
	challenges map[string]Challenge
	used       map[string]bool // sign-in nonces taken
	epoch      int64           // the challenge epoch; a "crash" changes it
	creds      map[string]Credential
	users      memUsers // the owners, as a join would find them
}

func newMemStore() *memStore {
	return &memStore{challenges: map[string]Challenge{}, used: map[string]bool{}, epoch: 1, creds: map[string]Credential{}}
}

func (m *memStore) SaveChallenge(_ context.Context, c Challenge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.challenges[string(c.Hash)] = c
	return nil
}

func (m *memStore) AllowList(ctx context.Context, upn string) (Allow, error) {
	var a Allow
	if upn != "" {
		for _, u := range m.users {
			if u.Name != upn {
				continue
			}
			list, _ := m.ListCredentials(ctx, u.ID)
			for _, cr := range list {
				a.Credentials = append(a.Credentials, CredentialRef{ID: cr.ID, Transports: cr.Transports})
			}
			if len(a.Credentials) > 0 {
				a.UserID = u.ID
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a.Epoch = m.epoch
	return a, nil
}

func (m *memStore) TakeChallenge(_ context.Context, hash []byte, kind string) (Challenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.challenges[string(hash)]
	if !ok || c.Kind != kind {
		return c, apperr.NotFound(apperr.CodeNotFound, "no such challenge")
	}
	delete(m.challenges, string(hash))
	return c, nil
}

func (m *memStore) TakeAssertionChallenge(ctx context.Context, c Challenge, credID []byte) (*Credential, *UserInfo, error) {
	m.mu.Lock()
	if m.used[string(c.Hash)] || c.Epoch != m.epoch {
		m.mu.Unlock()
		return nil, nil, apperr.NotFound(apperr.CodeNotFound, "no such challenge")
	}
	m.used[string(c.Hash)] = true
	m.mu.Unlock()
	cred, err := m.GetCredential(ctx, credID)
	if err != nil {
		return nil, nil, nil
	}
	u, ok := m.users[cred.UserID]
	if !ok {
		return nil, nil, nil
	}
	return &cred, &u, nil
}

func (m *memStore) PurgeExpiredChallenges(context.Context, time.Time) (int64, error) { return 0, nil }

func (m *memStore) CreateCredential(_ context.Context, c Credential) (Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.creds[string(c.ID)]; ok {
		return c, apperr.Conflict(CodeCredentialExists, "exists")
	}
	c.CreatedAt = time.Now()
	m.creds[string(c.ID)] = c
	return c, nil
}

func (m *memStore) GetCredential(_ context.Context, id []byte) (Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[string(id)]
	if !ok {
		return c, apperr.NotFound(apperr.CodeNotFound, "no such credential")
	}
	return c, nil
}

func (m *memStore) ListCredentials(_ context.Context, userID string) ([]Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Credential
	for _, c := range m.creds {
		if c.UserID == userID {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) RecordUse(_ context.Context, id []byte, count uint32, bs bool, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.creds[string(id)]
	if c.CloneSuspected || !(c.SignCount < count || (c.SignCount == 0 && count == 0)) {
		return false, nil
	}
	c.SignCount, c.BackupState, c.LastUsedAt = count, bs, &at
	m.creds[string(id)] = c
	return true, nil
}

func (m *memStore) MarkCloneSuspected(_ context.Context, id []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.creds[string(id)]
	c.CloneSuspected = true
	m.creds[string(id)] = c
	return nil
}

type memUsers map[string]UserInfo

func (m memUsers) UserByID(_ context.Context, id string) (UserInfo, error) {
	u, ok := m[id]
	if !ok {
		return u, apperr.NotFound(apperr.CodeNotFound, "no such user")
	}
	return u, nil
}

func (m memUsers) UserByName(_ context.Context, upn string) (UserInfo, error) {
	for _, u := range m {
		if u.Name == upn {
			return u, nil
		}
	}
	return UserInfo{}, apperr.NotFound(apperr.CodeNotFound, "no such user")
}
