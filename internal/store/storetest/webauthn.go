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

	t.Run("purge removes expired registration challenges; expired sign-in challenges are not taken", func(t *testing.T) {
		s, _ := newStores(t)
		soon, past := time.Now().Add(time.Minute), time.Now().Add(-time.Minute)
		for i, exp := range []time.Time{past, past, soon} {
			if err := s.SaveChallenge(ctx, ceremony.Challenge{Hash: []byte{byte(i), 'r'}, Kind: ceremony.KindRegistration,
				SessionData: []byte{1}, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := s.AllowList(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// A challenge expired (by more than the take's 30 s margin, on the
		// database's clock) is not taken, so its nonce could never be
		// recorded again after the purge (a minute past expiry).
		if _, _, err := s.TakeAssertionChallenge(ctx, ceremony.Challenge{Hash: []byte("expired"), ExpiresAt: time.Now().Add(-40 * time.Second), Epoch: a.Epoch}, nil); err == nil {
			t.Fatal("an expired challenge was taken")
		}
		if _, _, err := s.TakeAssertionChallenge(ctx, ceremony.Challenge{Hash: []byte("fresh"), ExpiresAt: soon, Epoch: a.Epoch}, nil); err != nil {
			t.Fatal(err)
		}
		if purged, err := s.PurgeExpiredChallenges(ctx, time.Now()); err != nil || purged != 2 {
			t.Fatalf("purged %d (%v), want the 2 expired challenges", purged, err)
		}
		if _, err := s.TakeChallenge(ctx, []byte{2, 'r'}, ceremony.KindRegistration); err != nil {
			t.Fatalf("the outstanding challenge was purged: %v", err)
		}
		if _, _, err := s.TakeAssertionChallenge(ctx, ceremony.Challenge{Hash: []byte("fresh"), ExpiresAt: soon, Epoch: a.Epoch}, nil); err == nil {
			t.Fatal("an unexpired nonce was purged")
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

	t.Run("assertion challenge loads credential and owner in one take, once", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "d@lab.example")
		c := cred(u.ID, 7)
		if _, err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateCredential(ctx, c)
		wantCode(t, err, apperr.KindConflict, ceremony.CodeCredentialExists)
		a, err := s.AllowList(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range [][]byte{c.ID, []byte("unknown")} {
			ch := ceremony.Challenge{Hash: []byte{byte(i), 'a'}, Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute), Epoch: a.Epoch}
			wrong := ch
			wrong.Epoch++
			_, _, err := s.TakeAssertionChallenge(ctx, wrong, id)
			wantKind(t, err, apperr.KindNotFound)
			got, owner, err := s.TakeAssertionChallenge(ctx, ch, id)
			if err != nil {
				t.Fatalf("take %d: %v", i, err)
			}
			if i == 0 && (got == nil || owner == nil || owner.Name != "d@lab.example" || !owner.Enabled || got.SignCount != 5) {
				t.Fatalf("credential not loaded: %+v %+v", got, owner)
			}
			if i == 1 && got != nil {
				t.Fatal("unknown credential loaded")
			}
			_, _, err = s.TakeAssertionChallenge(ctx, ch, id)
			wantKind(t, err, apperr.KindNotFound)
		}
	})

	t.Run("a sign-in challenge is taken once under concurrency", func(t *testing.T) {
		s, _ := newStores(t)
		a, err := s.AllowList(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		ch := ceremony.Challenge{Hash: []byte("raced"), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute), Epoch: a.Epoch}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.TakeAssertionChallenge(ctx, ch, nil); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d takes of one challenge succeeded, want 1", wins.Load())
		}
	})

	t.Run("allow list names only a user with passkeys; the epoch stays", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "Begin@lab.example")
		mustUser(t, dir, "nokeys@lab.example")
		c := cred(u.ID, 9)
		c.Transports = []string{"internal", "hybrid"}
		if _, err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		var epoch int64
		for i, tc := range []struct {
			upn      string
			wantUser string
			wantRefs int
		}{{"begin@LAB.example", u.ID, 1}, {"nokeys@lab.example", "", 0}, {"ghost@lab.example", "", 0}, {"", "", 0}} {
			a, err := s.AllowList(ctx, tc.upn)
			if err != nil || len(a.Credentials) != tc.wantRefs || a.UserID != tc.wantUser {
				t.Fatalf("%q: %+v %v, want user %q", tc.upn, a, err, tc.wantUser)
			}
			if tc.wantRefs == 1 && (string(a.Credentials[0].ID) != string(c.ID) || len(a.Credentials[0].Transports) != 2) {
				t.Fatalf("%q: allow list %+v", tc.upn, a.Credentials)
			}
			if i > 0 && a.Epoch != epoch {
				t.Fatalf("the epoch moved from %d to %d", epoch, a.Epoch)
			}
			epoch = a.Epoch
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
