package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
)

// Directory runs the directory.Store conformance suite; newStore must return
// an empty store each call.
func Directory(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()

	t.Run("user round trip and case-insensitive UPN", func(t *testing.T) {
		s := newStore(t)
		u := mustUser(t, s, "Alice@Lab.Example")
		got, err := s.GetUser(ctx, u.ID)
		if err != nil || got.UserPrincipalName != "Alice@Lab.Example" || !got.AccountEnabled || got.CreatedDateTime.IsZero() {
			t.Fatalf("get: %+v %v", got, err)
		}
		byUPN, err := s.GetUserByUPN(ctx, "alice@lab.example")
		if err != nil || byUPN.ID != u.ID {
			t.Fatalf("by UPN: %+v %v", byUPN, err)
		}
		_, err = s.CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "ALICE@lab.example", DisplayName: "x", AccountEnabled: true}, "")
		wantCode(t, err, apperr.KindConflict, directory.CodeDuplicateUPN)
	})

	t.Run("unknown ids are NotFound", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		_, err := s.GetUser(ctx, id)
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.GetGroup(ctx, id)
		wantKind(t, err, apperr.KindNotFound)
		wantKind(t, s.DeleteUser(ctx, id), apperr.KindNotFound)
		wantKind(t, s.DeleteGroup(ctx, id), apperr.KindNotFound)
		_, err = s.UpdateUser(ctx, id, directory.UserPatch{}, nil)
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.GetRoleAssignment(ctx, id)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("patch changes only given fields", func(t *testing.T) {
		s := newStore(t)
		u := mustUser(t, s, "bob@lab.example")
		yes := true
		name := "Bob B."
		got, err := s.UpdateUser(ctx, u.ID, directory.UserPatch{IsEmergencyAccess: &yes, DisplayName: &name}, nil)
		if err != nil || !got.IsEmergencyAccess || got.DisplayName != name || got.UserPrincipalName != u.UserPrincipalName {
			t.Fatalf("patch: %+v %v", got, err)
		}
		other := mustUser(t, s, "carol@lab.example")
		upn := "BOB@lab.example"
		_, err = s.UpdateUser(ctx, other.ID, directory.UserPatch{UserPrincipalName: &upn}, nil)
		wantCode(t, err, apperr.KindConflict, directory.CodeDuplicateUPN)
	})

	t.Run("membership, cascade and paging", func(t *testing.T) {
		s := newStore(t)
		g, err := s.CreateGroup(ctx, directory.Group{ID: uuid.NewString(), DisplayName: "GRP-Pilot-Passkey-Admins", SecurityEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, upn := range []string{"a@lab.example", "b@lab.example", "c@lab.example"} {
			u := mustUser(t, s, upn)
			ids = append(ids, u.ID)
			if err := s.AddMember(ctx, g.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, s.AddMember(ctx, g.ID, ids[0]), apperr.KindConflict, directory.CodeAlreadyMember)
		wantKind(t, s.AddMember(ctx, g.ID, uuid.NewString()), apperr.KindNotFound)
		wantKind(t, s.AddMember(ctx, uuid.NewString(), ids[0]), apperr.KindNotFound)

		first, _, err := s.ListMembers(ctx, g.ID, directory.Query{Page: directory.Page{Top: 2}})
		if err != nil || len(first) != 2 {
			t.Fatalf("page 1: %d %v", len(first), err)
		}
		rest, _, err := s.ListMembers(ctx, g.ID, directory.Query{Page: directory.Page{Top: 2, After: first[1].ID}})
		if err != nil || len(rest) != 1 || rest[0].ID == first[0].ID || rest[0].ID == first[1].ID {
			t.Fatalf("page 2: %+v %v", rest, err)
		}
		groups, err := s.GroupIDsOf(ctx, ids[1])
		if err != nil || len(groups) != 1 || groups[0] != g.ID {
			t.Fatalf("groups of: %v %v", groups, err)
		}
		if err := s.DeleteUser(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		left, _, _ := s.ListMembers(ctx, g.ID, directory.Query{})
		if len(left) != 2 {
			t.Fatalf("deleting a user must remove its memberships: %d left", len(left))
		}
		if err := s.RemoveMember(ctx, g.ID, ids[0]); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.RemoveMember(ctx, g.ID, ids[0]), apperr.KindNotFound)
	})

	t.Run("role assignments", func(t *testing.T) {
		s := newStore(t)
		u := mustUser(t, s, "admin@lab.example")
		ga, _ := directory.RoleByName(directory.RoleGlobalAdministrator)
		a, err := s.CreateRoleAssignment(ctx, directory.RoleAssignment{ID: uuid.NewString(), PrincipalID: u.ID, RoleDefinitionID: ga.ID, DirectoryScopeID: "/"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateRoleAssignment(ctx, directory.RoleAssignment{ID: uuid.NewString(), PrincipalID: u.ID, RoleDefinitionID: ga.ID, DirectoryScopeID: "/"})
		wantCode(t, err, apperr.KindConflict, directory.CodeDuplicateAssignment)
		_, err = s.CreateRoleAssignment(ctx, directory.RoleAssignment{ID: uuid.NewString(), PrincipalID: uuid.NewString(), RoleDefinitionID: ga.ID, DirectoryScopeID: "/"})
		wantKind(t, err, apperr.KindNotFound)
		list, err := s.ListRoleAssignments(ctx, directory.ByPrincipal(u.ID))
		if err != nil || len(list) != 1 || list[0] != a {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.DeleteRoleAssignment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.DeleteRoleAssignment(ctx, a.ID), apperr.KindNotFound)
	})
}

func mustUser(t *testing.T, s directory.Store, upn string) directory.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), directory.User{ID: uuid.NewString(), UserPrincipalName: upn, DisplayName: upn, AccountEnabled: true}, "")
	if err != nil {
		t.Fatalf("create %s: %v", upn, err)
	}
	return u
}

func wantKind(t *testing.T, err error, k apperr.Kind) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != k {
		t.Fatalf("want error of kind %d, got %v", k, err)
	}
}

func wantCode(t *testing.T, err error, k apperr.Kind, code string) {
	t.Helper()
	wantKind(t, err, k)
	if c := apperr.CodeOf(err); c != code {
		t.Fatalf("want code %s, got %s (%v)", code, c, err)
	}
}

func isKind(err error, k apperr.Kind) bool {
	e, ok := apperr.As(err)
	return ok && e.Kind == k
}
