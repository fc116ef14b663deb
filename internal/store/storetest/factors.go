package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/signin"
)

// FactorStore is what signin needs of its store: the factors and the facts.
type FactorStore interface {
	signin.FactorStore
	signin.FactsStore
}

// Factors runs the sign-in factor store conformance suite. newStores returns
// an empty store and the directory sharing its database.
func Factors(t *testing.T, newStores func(t *testing.T) (FactorStore, directory.Store)) {
	ctx := context.Background()

	t.Run("password set, replaced, absent", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "p@lab.example")
		_, err := s.PasswordHash(ctx, u.ID)
		wantKind(t, err, apperr.KindNotFound)
		for _, h := range []string{"hash-1", "hash-2"} {
			if _, err := dir.UpdateUser(ctx, u.ID, directory.UserPatch{}, &h); err != nil {
				t.Fatal(err)
			}
		}
		if h, err := s.PasswordHash(ctx, u.ID); err != nil || h != "hash-2" {
			t.Fatalf("hash %q %v", h, err)
		}
	})

	t.Run("a password given with the user is stored with it, or not at all", func(t *testing.T) {
		s, dir := newStores(t)
		u, err := dir.CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "pw@lab.example", DisplayName: "pw", AccountEnabled: true}, "hash-1")
		if err != nil {
			t.Fatal(err)
		}
		if h, err := s.PasswordHash(ctx, u.ID); err != nil || h != "hash-1" {
			t.Fatalf("hash %q %v", h, err)
		}
		// A creation refused (duplicate UPN) writes no password either.
		dupID := uuid.NewString()
		if _, err := dir.CreateUser(ctx, directory.User{ID: dupID, UserPrincipalName: "PW@lab.example", DisplayName: "dup", AccountEnabled: true}, "hash-2"); !isKind(err, apperr.KindConflict) {
			t.Fatalf("duplicate: %v", err)
		}
		_, err = s.PasswordHash(ctx, dupID)
		wantKind(t, err, apperr.KindNotFound)
		// A patch replaces the password with the properties, or neither.
		name := "renamed"
		h2 := "hash-3"
		if _, err := dir.UpdateUser(ctx, u.ID, directory.UserPatch{DisplayName: &name}, &h2); err != nil {
			t.Fatal(err)
		}
		if h, err := s.PasswordHash(ctx, u.ID); err != nil || h != "hash-3" {
			t.Fatalf("after patch: hash %q %v", h, err)
		}
		if _, err := dir.UpdateUser(ctx, uuid.NewString(), directory.UserPatch{}, &h2); !isKind(err, apperr.KindNotFound) {
			t.Fatalf("patch of an unknown user: %v", err)
		}
	})

	t.Run("TOTP steps are used once, even concurrently", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "t@lab.example")
		m, err := s.AddTOTP(ctx, totp.Method{ID: uuid.NewString(), UserID: u.ID, SealedSecret: []byte("sealed")})
		if err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := s.UseTOTPStep(ctx, m.ID, 1000); err == nil && ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("step 1000 used %d times", wins.Load())
		}
		if ok, _ := s.UseTOTPStep(ctx, m.ID, 999); ok {
			t.Fatal("an older step was accepted")
		}
		list, _ := s.ListTOTP(ctx, u.ID)
		if len(list) != 1 || string(list[0].SealedSecret) != "sealed" || list[0].LastStep != 1000 {
			t.Fatalf("list: %+v", list)
		}
		other := mustUser(t, dir, "t2@lab.example")
		wantKind(t, s.DeleteTOTP(ctx, other.ID, m.ID), apperr.KindNotFound)
		if err := s.DeleteTOTP(ctx, u.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("push: device lookup and one decision per request", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "q@lab.example")
		dev, err := s.AddPushMethod(ctx, push.Method{ID: uuid.NewString(), UserID: u.ID, DisplayName: "phone", DeviceTokenHash: []byte("hash")})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.PushMethodByToken(ctx, []byte("hash")); err != nil || got.ID != dev.ID {
			t.Fatalf("by token: %+v %v", got, err)
		}
		_, err = s.PushMethodByToken(ctx, []byte("other"))
		wantKind(t, err, apperr.KindNotFound)

		now := time.Now()
		req := signin.PushRequest{ID: uuid.NewString(), UserID: u.ID, NumberMatch: 42, AppName: "portal", ExpiresAt: now.Add(time.Minute)}
		if err := s.CreatePushRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TakePushRequest(ctx, req.ID, u.ID); err != nil || got.Status != "pending" {
			t.Fatalf("pending take: %+v %v", got, err)
		}
		if p, err := s.PendingPushRequests(ctx, u.ID, now); err != nil || len(p) != 1 || p[0].ID != req.ID || p[0].AppName != "portal" {
			t.Fatalf("pending list: %+v %v", p, err)
		}
		if p, err := s.PendingPushRequests(ctx, uuid.NewString(), now); err != nil || len(p) != 0 {
			t.Fatalf("another user's pending list: %+v %v", p, err)
		}
		if ok, _ := s.DecidePushRequest(ctx, req.ID, uuid.NewString(), true, now); ok {
			t.Fatal("another user decided the request")
		}
		if ok, _ := s.DecidePushRequest(ctx, req.ID, u.ID, true, now); !ok {
			t.Fatal("approve refused")
		}
		if ok, _ := s.DecidePushRequest(ctx, req.ID, u.ID, false, now); ok {
			t.Fatal("a decided request was decided again")
		}
		if p, err := s.PendingPushRequests(ctx, u.ID, now); err != nil || len(p) != 0 {
			t.Fatalf("a decided request is still pending: %+v %v", p, err)
		}
		if got, err := s.TakePushRequest(ctx, req.ID, u.ID); err != nil || got.Status != "approved" {
			t.Fatalf("approved take: %+v %v", got, err)
		}
		_, err = s.TakePushRequest(ctx, req.ID, u.ID)
		wantKind(t, err, apperr.KindNotFound)

		late := signin.PushRequest{ID: uuid.NewString(), UserID: u.ID, NumberMatch: 11, ExpiresAt: now.Add(-2 * time.Minute)}
		_ = s.CreatePushRequest(ctx, late)
		if ok, _ := s.DecidePushRequest(ctx, late.ID, u.ID, true, now); ok {
			t.Fatal("an expired request was approved")
		}
		if n, err := s.PurgeExpiredPushRequests(ctx, now); err != nil || n != 1 {
			t.Fatalf("purged %d: %v", n, err)
		}
	})

	t.Run("facts and session revocation", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "f@lab.example")
		f, err := s.SignInFacts(ctx, u.ID)
		if err != nil || f.UserPrincipalName != "f@lab.example" || !f.Enabled || f.HasPassword || f.HasPush || f.UserRiskLevel != "none" ||
			len(f.GroupIDs) != 0 || !f.SessionsValidFrom.Before(time.Now().Add(-time.Hour)) {
			t.Fatalf("fresh facts: %+v %v", f, err)
		}
		g, _ := dir.CreateGroup(ctx, directory.Group{ID: uuid.NewString(), DisplayName: "G"})
		_ = dir.AddMember(ctx, g.ID, u.ID)
		h := "h"
		_, _ = dir.UpdateUser(ctx, u.ID, directory.UserPatch{}, &h)
		at := time.Now().Truncate(time.Millisecond)
		if err := s.RevokeSessions(ctx, u.ID, at); err != nil {
			t.Fatal(err)
		}
		f, _ = s.SignInFacts(ctx, u.ID)
		if !f.HasPassword || len(f.GroupIDs) != 1 || f.GroupIDs[0] != g.ID || !f.SessionsValidFrom.Equal(at) {
			t.Fatalf("facts after changes: %+v", f)
		}
		if v, enabled, err := s.SessionState(ctx, u.ID); err != nil || !v.Equal(at) || !enabled {
			t.Fatalf("session state %v %v %v", v, enabled, err)
		}
		_, err = s.SignInFacts(ctx, uuid.NewString())
		wantKind(t, err, apperr.KindNotFound)
		wantKind(t, s.RevokeSessions(ctx, uuid.NewString(), at), apperr.KindNotFound)
	})
}
