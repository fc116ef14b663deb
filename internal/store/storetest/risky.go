package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/risk"
)

// RiskyUsers runs the risk.Store conformance suite; newStores must return
// empty stores on the same database each call (risk records name users).
func RiskyUsers(t *testing.T, newStores func(t *testing.T) (risk.Store, directory.Store)) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	t.Run("no record means not at risk", func(t *testing.T) {
		s, dir := newStores(t)
		u := mustUser(t, dir, "quiet@lab.example")
		if lvl, err := s.UserRisk(ctx, u.ID); err != nil || lvl != risk.LevelNone {
			t.Fatalf("user risk: %q %v", lvl, err)
		}
		_, err := s.Get(ctx, u.ID)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("apply, read back, dismiss", func(t *testing.T) {
		s, dir := newStores(t)
		a, b := mustUser(t, dir, "a@lab.example"), mustUser(t, dir, "b@lab.example")
		if err := s.Apply(ctx, []string{a.ID, b.ID}, risk.Change{RiskLevel: "high", RiskState: "atRisk", RiskDetail: "none", At: at}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, a.ID)
		if err != nil || got.RiskLevel != "high" || got.RiskState != "atRisk" || got.UserPrincipalName != "a@lab.example" ||
			!got.RiskLastUpdatedDateTime.Equal(at) || got.IsDeleted {
			t.Fatalf("get: %+v %v", got, err)
		}
		if lvl, _ := s.UserRisk(ctx, b.ID); lvl != "high" {
			t.Fatalf("user risk: %q", lvl)
		}
		if err := s.Apply(ctx, []string{b.ID}, risk.Change{RiskLevel: "none", RiskState: "dismissed", RiskDetail: "adminDismissedAllRiskForUser", At: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if lvl, _ := s.UserRisk(ctx, b.ID); lvl != risk.LevelNone {
			t.Fatalf("dismissed user still at risk: %q", lvl)
		}
		list, err := s.List(ctx, directory.Query{Page: directory.Page{Top: 1}})
		if err != nil || len(list) != 1 {
			t.Fatalf("page 1: %v %v", list, err)
		}
		rest, err := s.List(ctx, directory.Query{Page: directory.Page{Top: 1, After: list[0].ID}})
		if err != nil || len(rest) != 1 || rest[0].ID == list[0].ID {
			t.Fatalf("page 2: %v %v", rest, err)
		}
	})

	t.Run("an unknown user fails the whole action", func(t *testing.T) {
		s, dir := newStores(t)
		a := mustUser(t, dir, "a@lab.example")
		err := s.Apply(ctx, []string{a.ID, uuid.NewString()}, risk.Change{RiskLevel: "high", RiskState: "confirmedCompromised", RiskDetail: "adminConfirmedUserCompromised", At: at})
		wantCode(t, err, apperr.KindNotFound, apperr.CodeNotFound)
		_, err = s.Get(ctx, a.ID)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("a deleted user keeps its record, marked isDeleted", func(t *testing.T) {
		s, dir := newStores(t)
		a := mustUser(t, dir, "gone@lab.example")
		if err := s.Apply(ctx, []string{a.ID}, risk.Change{RiskLevel: "medium", RiskState: "atRisk", RiskDetail: "none", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := dir.DeleteUser(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, a.ID)
		if err != nil || !got.IsDeleted || got.UserPrincipalName != "gone@lab.example" {
			t.Fatalf("deleted: %+v %v", got, err)
		}
	})
}
