package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
)

// WebAuthn runs the ceremony.Store conformance suite. newStores returns an
// empty ceremony store and the directory sharing its database (credentials
// belong to users).
func WebAuthn(t *testing.T, newStores func(t *testing.T) (ceremony.Store, directory.Store)) {
	ctx := context.Background()
	cred := func(userID string, id byte) ceremony.Credential {
		return ceremony.Credential{ID: []byte{id, 1, 2, 3}, MethodID: uuid.NewString(), UserID: userID, PublicKey: []byte{0xa5},
			AAGUID: uuid.NewString(), AttestationFormat: "none", AttestationType: "none", DisplayName: "key", SignCount: 5}
	}

	t.Run("anonymous challenges are bounded per client and in total", func(t *testing.T) {
		s, _ := newStores(t)
		bound := ceremony.PendingBound{PerClient: 3, Total: 5}
		n := 0
		save := func(client string, expires time.Time) error {
			n++
			return s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte{byte(n), 'b'}, Kind: ceremony.KindAuthentication,
				SessionData: []byte{1}, ExpiresAt: expires, Client: client, Pending: bound})
		}
		soon, past := time.Now().Add(time.Minute), time.Now().Add(-time.Minute)
		refused := func(err error) bool {
			e, ok := apperr.As(err)
			return ok && e.Kind == apperr.KindRateLimited && e.Code == ceremony.CodeTooManyPendingChallenges
		}
		// Expired challenges do not count.
		for i := 0; i < 4; i++ {
			if err := save("198.51.100.1", past); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3; i++ {
			if err := save("198.51.100.1", soon); err != nil {
				t.Fatalf("challenge %d of client A: %v", i, err)
			}
		}
		if err := save("198.51.100.1", soon); !refused(err) {
			t.Fatalf("4th outstanding challenge of one client: %v", err)
		}
		for i := 0; i < 2; i++ {
			if err := save("198.51.100.2", soon); err != nil {
				t.Fatalf("challenge %d of client B: %v", i, err)
			}
		}
		if err := save("198.51.100.3", soon); !refused(err) {
			t.Fatalf("6th outstanding anonymous challenge: %v", err)
		}
		// Signed-in callers (no client) are not bounded here.
		if err := s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte("signed-in"), Kind: ceremony.KindAuthentication,
			SessionData: []byte{1}, ExpiresAt: soon}); err != nil {
			t.Fatal(err)
		}
		// Purging expired ones leaves the outstanding ones.
		if purged, err := s.PurgeExpiredChallenges(ctx, time.Now()); err != nil || purged != 4 {
			t.Fatalf("purged %d (%v), want the 4 expired", purged, err)
		}
	})

	t.Run("challenge is single use and reports expiry", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "c@lab.example")
		past := time.Now().Add(-time.Minute)
		if err := s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte("h1"), Kind: ceremony.KindRegistration, UserID: u.ID, SessionData: []byte{1}, Label: "phone", ExpiresAt: past}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeChallenge(ctx, []byte("h1"), ceremony.KindAuthentication); err == nil {
			t.Fatal("a registration challenge was taken as an authentication one")
		}
		c, err := s.TakeChallenge(ctx, []byte("h1"), ceremony.KindRegistration)
		if err != nil || c.UserID != u.ID || c.Label != "phone" || !c.ExpiresAt.Equal(past.Truncate(time.Microsecond)) && c.ExpiresAt.Sub(past) > time.Millisecond {
			t.Fatalf("take: %+v %v", c, err)
		}
		_, err = s.TakeChallenge(ctx, []byte("h1"), ceremony.KindRegistration)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("assertion challenge loads credential and owner in one take", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "d@lab.example")
		c := cred(u.ID, 7)
		if _, err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateCredential(ctx, c)
		wantCode(t, err, apperr.KindConflict, ceremony.CodeCredentialExists)
		for i, id := range [][]byte{c.ID, []byte("unknown")} {
			h := []byte{byte(i), 'a'}
			if err := s.SaveChallenge(ctx, ceremony.Challenge{Hash: h, Kind: ceremony.KindAuthentication, SessionData: []byte{1}, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			ch, got, owner, err := s.TakeAssertionChallenge(ctx, h, id)
			if err != nil || ch.UserID != "" {
				t.Fatalf("take %d: %+v %v", i, ch, err)
			}
			if i == 0 && (got == nil || owner == nil || owner.Name != "d@lab.example" || !owner.Enabled || got.SignCount != 5) {
				t.Fatalf("credential not loaded: %+v %+v", got, owner)
			}
			if i == 1 && got != nil {
				t.Fatal("unknown credential loaded")
			}
			_, _, _, err = s.TakeAssertionChallenge(ctx, h, id)
			wantKind(t, err, apperr.KindNotFound)
		}
	})

	t.Run("begin assertion binds the challenge only to a user with passkeys", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "Begin@lab.example")
		mustUser(t, dir, "nokeys@lab.example")
		c := cred(u.ID, 9)
		c.Transports = []string{"internal", "hybrid"}
		if _, err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		for i, tc := range []struct {
			upn      string
			wantUser string
			wantRefs int
		}{{"begin@LAB.example", u.ID, 1}, {"nokeys@lab.example", "", 0}, {"ghost@lab.example", "", 0}, {"", "", 0}} {
			h := []byte{byte(i), 'b'}
			refs, err := s.BeginAssertion(ctx, tc.upn, ceremony.Challenge{Hash: h, Kind: ceremony.KindAuthentication, UserID: "ignored", ExpiresAt: time.Now().Add(time.Minute)})
			if err != nil || len(refs) != tc.wantRefs {
				t.Fatalf("%q: %+v %v", tc.upn, refs, err)
			}
			if tc.wantRefs == 1 && (string(refs[0].ID) != string(c.ID) || len(refs[0].Transports) != 2) {
				t.Fatalf("%q: allow list %+v", tc.upn, refs)
			}
			ch, err := s.TakeChallenge(ctx, h, ceremony.KindAuthentication)
			if err != nil || ch.UserID != tc.wantUser {
				t.Fatalf("%q: challenge %+v %v, want user %q", tc.upn, ch, err, tc.wantUser)
			}
		}
	})

	t.Run("begin assertion keeps the anonymous pending bound", func(t *testing.T) {
		s, _ := newStores(t)
		bound := ceremony.PendingBound{PerClient: 2, Total: 10}
		for i := 0; i < 3; i++ {
			_, err := s.BeginAssertion(ctx, "", ceremony.Challenge{Hash: []byte{byte(i), 'p'}, Kind: ceremony.KindAuthentication,
				ExpiresAt: time.Now().Add(time.Minute), Client: "198.51.100.9", Pending: bound})
			if i < 2 && err != nil {
				t.Fatalf("begin %d: %v", i, err)
			}
			if i == 2 {
				wantCode(t, err, apperr.KindRateLimited, ceremony.CodeTooManyPendingChallenges)
			}
		}
		if _, err := s.TakeChallenge(ctx, []byte{2, 'p'}, ceremony.KindAuthentication); err == nil {
			t.Fatal("the refused challenge was stored")
		}
	})

	t.Run("counter advances once under concurrency; regression refused", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "e@lab.example")
		c := cred(u.ID, 9)
		if _, err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.RecordUse(ctx, c.ID, 6, false, time.Now())
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent uses of counter 6 succeeded, want 1", wins.Load())
		}
		if ok, _ := s.RecordUse(ctx, c.ID, 3, false, time.Now()); ok {
			t.Fatal("counter went backwards")
		}
		if err := s.MarkCloneSuspected(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.RecordUse(ctx, c.ID, 100, false, time.Now()); ok {
			t.Fatal("a credential suspected of cloning was used")
		}
		got, err := s.GetCredential(ctx, c.ID)
		if err != nil || !got.CloneSuspected || got.SignCount != 6 || got.LastUsedAt == nil {
			t.Fatalf("after: %+v %v", got, err)
		}
		// Counters that are always zero (synced passkeys) stay usable.
		z := cred(u.ID, 10)
		z.SignCount = 0
		if _, err := s.CreateCredential(ctx, z); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if ok, _ := s.RecordUse(ctx, z.ID, 0, true, time.Now()); !ok {
				t.Fatal("zero counter refused")
			}
		}
	})

	t.Run("purge and cascade", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "f@lab.example")
		_ = s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte("old"), Kind: ceremony.KindAuthentication, SessionData: []byte{1}, ExpiresAt: time.Now().Add(-time.Hour)})
		_ = s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte("new"), Kind: ceremony.KindAuthentication, SessionData: []byte{1}, ExpiresAt: time.Now().Add(time.Hour)})
		if n, err := s.PurgeExpiredChallenges(ctx, time.Now()); err != nil || n != 1 {
			t.Fatalf("purged %d: %v", n, err)
		}
		if _, err := s.CreateCredential(ctx, cred(u.ID, 11)); err != nil {
			t.Fatal(err)
		}
		if err := dir.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.ListCredentials(ctx, u.ID); len(list) != 0 {
			t.Fatal("credentials outlived their user")
		}
	})
}
