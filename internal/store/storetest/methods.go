package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/tap"
)

// MethodsStores are the stores the methods suite exercises, on one empty
// database: the directory and ceremony stores seed users and credentials.
type MethodsStores struct {
	Configs   methods.ConfigStore
	TAPs      methods.TAPStore
	Creds     methods.CredentialStore
	Directory directory.Store
	WebAuthn  ceremony.Store
}

// Methods runs the conformance suite of the authentication methods stores.
func Methods(t *testing.T, newStores func(t *testing.T) MethodsStores) {
	ctx := context.Background()

	t.Run("config: never written, update, failed update writes nothing", func(t *testing.T) {
		s := newStores(t)
		_, _, err := s.Configs.GetConfig(ctx, methods.ConfigFido2)
		wantKind(t, err, apperr.KindNotFound)
		v, err := s.Configs.UpdateConfig(ctx, methods.ConfigFido2, func(cur []byte) ([]byte, error) {
			if cur != nil {
				t.Fatalf("first update saw %s", cur)
			}
			return []byte(`{"state":"enabled"}`), nil
		})
		if err != nil || v != 1 {
			t.Fatalf("update: %d %v", v, err)
		}
		boom := apperr.Invalid("boom", "refused")
		_, err = s.Configs.UpdateConfig(ctx, methods.ConfigFido2, func(cur []byte) ([]byte, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("fn error not returned: %v", err)
		}
		_, err = s.Configs.UpdateConfig(ctx, methods.ConfigTAP, func(cur []byte) ([]byte, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		_, _, err = s.Configs.GetConfig(ctx, methods.ConfigTAP)
		wantKind(t, err, apperr.KindNotFound) // the placeholder row was rolled back
		doc, v, err := s.Configs.GetConfig(ctx, methods.ConfigFido2)
		var got map[string]string
		_ = json.Unmarshal(doc, &got)
		if err != nil || v != 1 || got["state"] != "enabled" {
			t.Fatalf("get: %s %d %v", doc, v, err)
		}
	})

	t.Run("config: concurrent read-modify-write loses nothing", func(t *testing.T) {
		s := newStores(t)
		const n = 20
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := s.Configs.UpdateConfig(ctx, methods.ConfigTAP, func(cur []byte) ([]byte, error) {
					var doc struct{ Count int }
					if cur != nil {
						if err := json.Unmarshal(cur, &doc); err != nil {
							return nil, err
						}
					}
					doc.Count++
					return json.Marshal(doc)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		doc, v, err := s.Configs.GetConfig(ctx, methods.ConfigTAP)
		var got struct{ Count int }
		_ = json.Unmarshal(doc, &got)
		if err != nil || v != n || got.Count != n {
			t.Fatalf("after %d updates: %s version %d %v", n, doc, v, err)
		}
	})

	t.Run("tap: one per user, get, delete", func(t *testing.T) {
		s := newStores(t)
		u := mustUser(t, s.Directory, "tap@lab.example")
		rec := record(u.ID, time.Now(), 60, true)
		if err := s.TAPs.CreateTAP(ctx, rec); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.TAPs.CreateTAP(ctx, record(u.ID, time.Now(), 60, false)), apperr.KindConflict, methods.CodeTAPExists)
		wantKind(t, s.TAPs.CreateTAP(ctx, record(uuid.NewString(), time.Now(), 60, false)), apperr.KindNotFound)
		got, err := s.TAPs.TAPOfUser(ctx, u.ID)
		if err != nil || got.ID != rec.ID || got.SecretHash != rec.SecretHash || !got.StartDateTime.Equal(rec.StartDateTime) ||
			got.LifetimeInMinutes != 60 || !got.IsUsableOnce || got.LastUsedDateTime != nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		wantKind(t, s.TAPs.DeleteTAP(ctx, u.ID, uuid.NewString()), apperr.KindNotFound)
		if err := s.TAPs.DeleteTAP(ctx, u.ID, rec.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.TAPs.TAPOfUser(ctx, u.ID)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("tap: 100 concurrent redemptions of a one-time pass, exactly one wins", func(t *testing.T) {
		s := newStores(t)
		u := mustUser(t, s.Directory, "once@lab.example")
		rec := record(u.ID, time.Now().Add(-time.Minute), 60, true)
		if err := s.TAPs.CreateTAP(ctx, rec); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				_, ok, err := s.TAPs.RedeemTAP(ctx, rec.ID, time.Now())
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d redemptions succeeded, want exactly 1", wins.Load())
		}
		got, _ := s.TAPs.TAPOfUser(ctx, u.ID)
		if got.LastUsedDateTime == nil {
			t.Fatal("used pass has no lastUsedDateTime")
		}
	})

	t.Run("tap: validity window and multi-use", func(t *testing.T) {
		s := newStores(t)
		now := time.Now().UTC().Truncate(time.Second)
		cases := []struct {
			start    time.Time
			lifetime int
			once     bool
			uses     []bool
		}{
			{now.Add(-time.Minute), 60, false, []bool{true, true, true}},
			{now.Add(-time.Minute), 60, true, []bool{true, false}},
			{now.Add(-61 * time.Minute), 60, false, []bool{false}}, // expired
			{now.Add(time.Minute), 60, true, []bool{false}},        // not yet valid
		}
		for i, c := range cases {
			u := mustUser(t, s.Directory, uuid.NewString()[:8]+"@lab.example")
			rec := record(u.ID, c.start, c.lifetime, c.once)
			if err := s.TAPs.CreateTAP(ctx, rec); err != nil {
				t.Fatal(err)
			}
			for j, want := range c.uses {
				if _, ok, err := s.TAPs.RedeemTAP(ctx, rec.ID, now); err != nil || ok != want {
					t.Fatalf("case %d use %d: ok=%v err=%v, want %v", i, j, ok, err, want)
				}
			}
		}
		if _, ok, err := s.TAPs.RedeemTAP(ctx, uuid.NewString(), now); ok || err != nil {
			t.Fatalf("unknown pass: %v %v", ok, err)
		}
	})

	t.Run("tap: a redemption given back, and only that one", func(t *testing.T) {
		s := newStores(t)
		now := time.Now().UTC().Truncate(time.Second)
		u := mustUser(t, s.Directory, "giveback@lab.example")
		rec := record(u.ID, now.Add(-time.Minute), 60, true)
		if err := s.TAPs.CreateTAP(ctx, rec); err != nil {
			t.Fatal(err)
		}
		used, ok, err := s.TAPs.RedeemTAP(ctx, rec.ID, now)
		if err != nil || !ok || used.LastUsedDateTime == nil {
			t.Fatalf("redeem: %v %v %+v", ok, err, used)
		}
		// Another use's timestamp does not match: nothing changes.
		if err := s.TAPs.UnredeemTAP(ctx, rec.ID, now.Add(time.Second), nil); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.TAPs.RedeemTAP(ctx, rec.ID, now); ok {
			t.Fatal("a give-back with another use's time made the one-time pass usable again")
		}
		if err := s.TAPs.UnredeemTAP(ctx, rec.ID, *used.LastUsedDateTime, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.TAPs.TAPOfUser(ctx, u.ID); got.LastUsedDateTime != nil {
			t.Fatalf("given back, still used at %v", got.LastUsedDateTime)
		}
		if _, ok, err := s.TAPs.RedeemTAP(ctx, rec.ID, now); err != nil || !ok {
			t.Fatalf("given-back pass not usable again: %v %v", ok, err)
		}
	})

	t.Run("tap attempts: counted per user and window, atomic, released", func(t *testing.T) {
		s := newStores(t)
		u := mustUser(t, s.Directory, "guess@lab.example")
		now := time.Now().UTC()
		w := 15 * time.Minute
		for i := 1; i <= 3; i++ {
			n, start, err := s.TAPs.ReserveTAPAttempt(ctx, u.ID, now.Add(time.Duration(i)*time.Second), w)
			if err != nil || n != i || !start.Equal(now.Add(time.Second).Truncate(time.Microsecond)) {
				t.Fatalf("reserve %d: %d %v %v", i, n, start, err)
			}
		}
		if err := s.TAPs.ReleaseTAPAttempt(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.TAPs.ReserveTAPAttempt(ctx, u.ID, now.Add(time.Minute), w); n != 3 {
			t.Fatalf("after release: %d", n)
		}
		if n, _, _ := s.TAPs.ReserveTAPAttempt(ctx, u.ID, now.Add(w+2*time.Second), w); n != 1 {
			t.Fatalf("new window: %d", n)
		}
		other := mustUser(t, s.Directory, "other@lab.example")
		var wg sync.WaitGroup
		seen := make([]atomic.Bool, 51)
		for range 50 {
			wg.Go(func() {
				n, _, err := s.TAPs.ReserveTAPAttempt(ctx, other.ID, now, w)
				if err != nil || n < 1 || n > 50 || seen[n].Swap(true) {
					t.Errorf("concurrent reserve gave %d %v (duplicate or out of range)", n, err)
				}
			})
		}
		wg.Wait()
		_, _, err := s.TAPs.ReserveTAPAttempt(ctx, uuid.NewString(), now, w)
		wantKind(t, err, apperr.KindNotFound)
		if err := s.TAPs.ReleaseTAPAttempt(ctx, uuid.NewString()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("credentials: get, rename, delete by method id, scoped to the user", func(t *testing.T) {
		s := newStores(t)
		u := mustUser(t, s.Directory, "keys@lab.example")
		other := mustUser(t, s.Directory, "else@lab.example")
		c, err := s.WebAuthn.CreateCredential(ctx, ceremony.Credential{ID: []byte(uuid.NewString()), MethodID: uuid.NewString(), UserID: u.ID,
			PublicKey: []byte{1}, AAGUID: uuid.NewString(), AttestationFormat: "none", AttestationType: "none", DisplayName: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Creds.GetCredentialByMethodID(ctx, u.ID, c.MethodID)
		if err != nil || got.DisplayName != "phone" || string(got.ID) != string(c.ID) {
			t.Fatalf("get: %+v %v", got, err)
		}
		_, err = s.Creds.GetCredentialByMethodID(ctx, other.ID, c.MethodID)
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.Creds.RenameCredential(ctx, other.ID, c.MethodID, "stolen")
		wantKind(t, err, apperr.KindNotFound)
		wantKind(t, s.Creds.DeleteCredentialByMethodID(ctx, other.ID, c.MethodID), apperr.KindNotFound)
		renamed, err := s.Creds.RenameCredential(ctx, u.ID, c.MethodID, "Pixel 9")
		if err != nil || renamed.DisplayName != "Pixel 9" {
			t.Fatalf("rename: %+v %v", renamed, err)
		}
		if list, err := s.Creds.ListCredentials(ctx, u.ID); err != nil || len(list) != 1 || list[0].DisplayName != "Pixel 9" {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.Creds.DeleteCredentialByMethodID(ctx, u.ID, c.MethodID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.Creds.DeleteCredentialByMethodID(ctx, u.ID, c.MethodID), apperr.KindNotFound)
		if list, _ := s.Creds.ListCredentials(ctx, u.ID); len(list) != 0 {
			t.Fatalf("deleted credential still listed: %+v", list)
		}
	})
}

// record is a pass row; the hash is a placeholder (the store never checks it).
func record(userID string, start time.Time, lifetime int, once bool) tap.Record {
	start = start.UTC().Truncate(time.Second)
	return tap.Record{ID: uuid.NewString(), UserID: userID, SecretHash: "$argon2id$test$" + uuid.NewString(),
		CreatedDateTime: start, StartDateTime: start, LifetimeInMinutes: lifetime, IsUsableOnce: once}
}
