package conditionalaccess

import (
	"context"
	"log/slog"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/policy"
)

// DirectoryChange is a directory change that can put an emergency-access
// account, or the administrator making it, under an enabled policy: lockout
// protection judges the directory as it would be after the change. Exactly
// one field is set.
type DirectoryChange struct {
	AddMember    *Membership // adding a user to a group (a policy may include it)
	RemoveMember *Membership // removing a user from a group (a policy may exclude it)
	DeleteGroup  string      // every member leaves the group
	// SetEmergency flags (or unflags) a user as emergency access: a new
	// break-glass account must be excluded from every restrictive policy.
	SetEmergency *EmergencyFlag
	// DisableUser disables or deletes a user: the administrator's own
	// account would lock them out.
	DisableUser string
	// AssignRole and UnassignRole give or take a directory role: a policy
	// that includes or excludes roles (includeRoles, excludeRoles) may then
	// block the administrator making the change, if it is their own.
	AssignRole   *RoleChange
	UnassignRole *RoleChange
}

// RoleChange is a directory role (its template id) and the user holding it.
type RoleChange struct{ UserID, RoleTemplateID string }

// Membership is a user in a group.
type Membership struct{ GroupID, UserID string }

// EmergencyFlag is a user's isEmergencyAccess after the change.
type EmergencyFlag struct {
	UserID string
	On     bool
	// New: the user is being created (no groups yet; UserID is a label).
	New bool
}

// AlertSink raises a security alert; lockout protection raises one when an
// administrator forces a change it refused.
type AlertSink func(ctx context.Context, title, description, userID string) error

// SetAlertSink sets where forced overrides are reported (nil: logged only).
func (s *Service) SetAlertSink(a AlertSink) { s.alerts = a }

// ChangeLock serializes the changes lockout protection judges across
// every server (the store's LockChanges): a check and the write it allows
// run under it, so two changes that pass alone cannot together leave an
// emergency account or an administrator under a policy that locks them
// out, each having been checked against the directory without the other.
type ChangeLock interface {
	LockChanges(ctx context.Context) (unlock func(), err error)
}

// SetChangeLock sets the lock policy saves and directory changes take
// (nil: none, for a single writer such as a unit test).
func (s *Service) SetChangeLock(l ChangeLock) { s.changes = l }

// LockChanges takes the change lock for a directory change: hold it from
// CheckDirectoryChange until the change has committed. Policy saves take
// it themselves.
func (s *Service) LockChanges(ctx context.Context) (unlock func(), err error) {
	if s.changes == nil {
		return func() {}, nil
	}
	return s.changes.LockChanges(ctx)
}

// CheckDirectoryChange runs lockout protection on every enabled policy
// against the directory as change would leave it, with the same rule and
// codes as saving a policy (409 emergencyAccountNotExcluded,
// wouldLockOutCaller). Only findings the change introduces count, so a
// policy saved earlier with force does not block unrelated changes. With
// force the change may go ahead; the override raises a security alert.
func (s *Service) CheckDirectoryChange(ctx context.Context, caller Caller, ch DirectoryChange, force bool) error {
	c, err := s.current(ctx)
	if err != nil {
		return err
	}
	if c.err != nil {
		return nil // policies that do not compile are not enforced either
	}
	before, err := s.lockoutInput(ctx, caller, c.strengths, false)
	if err != nil {
		return err
	}
	after, err := s.apply(ctx, before, caller, ch)
	if err != nil {
		return err
	}
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return err
	}
	var added policy.ValidationErrors
	if ch.DisableUser != "" && ch.DisableUser == caller.UserID {
		added = append(added, policy.ValidationError{Code: policy.CodeWouldLockOutCaller, Target: "accountEnabled",
			Message: "disabling or deleting your own account would lock you out"})
	}
	for _, p := range snap.Policies {
		was := findingsOf(p, before)
		for _, f := range findingsOf(p, after) {
			if !hasCode(was, f.Code) {
				f.Message = "policy \"" + p.DisplayName + "\": " + f.Message
				added = append(added, f)
			}
		}
	}
	if len(added) == 0 {
		return nil
	}
	if !force {
		return validationError(apperr.KindConflict, added)
	}
	if o := audit.OverrideFrom(ctx); o != nil {
		// The store records it in the change's transaction (a request
		// judged on several changes notes all their findings).
		if o.Findings != "" {
			o.Findings += "; "
		}
		o.Findings += added.Error()
	}
	s.overridden(ctx, caller, "directory change", added)
	return nil
}

func findingsOf(p policy.ConditionalAccessPolicy, l lockoutInput) policy.ValidationErrors {
	in := l.in
	in.Force = true // report findings; the caller decides
	in.EmergencyAccountUserIDs = l.notExcluded(p)
	findings, err := policy.CheckLockout(p, in)
	if err != nil {
		return nil
	}
	return findings
}

func hasCode(list policy.ValidationErrors, code string) bool {
	for _, f := range list {
		if f.Code == code {
			return true
		}
	}
	return false
}

// apply returns the lockout input as ch would leave the directory.
func (s *Service) apply(ctx context.Context, l lockoutInput, caller Caller, ch DirectoryChange) (lockoutInput, error) {
	out := lockoutInput{in: l.in, caller: l.caller, emergency: make(map[string][]string, len(l.emergency)+1)}
	for id, groups := range l.emergency {
		out.emergency[id] = append([]string(nil), groups...)
	}
	if l.in.Caller != nil {
		sc := *l.in.Caller
		sc.RoleTemplateIDs = append([]string(nil), l.in.Caller.RoleTemplateIDs...)
		sc.GroupIDs = policy.NewSet()
		for g := range l.in.Caller.GroupIDs {
			sc.GroupIDs[g] = struct{}{}
		}
		out.in.Caller = &sc
	}
	edit := func(userID string, fn func([]string) []string) {
		if groups, ok := out.emergency[userID]; ok {
			out.emergency[userID] = fn(groups)
		}
		if out.in.Caller != nil && userID == caller.UserID {
			next := fn(keys(out.in.Caller.GroupIDs))
			out.in.Caller.GroupIDs = policy.NewSet(next...)
		}
	}
	switch {
	case ch.AddMember != nil:
		edit(ch.AddMember.UserID, func(g []string) []string { return append(g, ch.AddMember.GroupID) })
	case ch.RemoveMember != nil:
		edit(ch.RemoveMember.UserID, func(g []string) []string { return without(g, ch.RemoveMember.GroupID) })
	case ch.DeleteGroup != "":
		for id := range out.emergency {
			out.emergency[id] = without(out.emergency[id], ch.DeleteGroup)
		}
		if out.in.Caller != nil {
			delete(out.in.Caller.GroupIDs, ch.DeleteGroup)
		}
	case ch.SetEmergency != nil && ch.SetEmergency.On:
		if _, ok := out.emergency[ch.SetEmergency.UserID]; !ok && ch.SetEmergency.New {
			out.emergency[ch.SetEmergency.UserID] = nil
		} else if !ok {
			groups, err := s.dir.GroupIDsOf(ctx, ch.SetEmergency.UserID)
			if err != nil {
				return out, err
			}
			out.emergency[ch.SetEmergency.UserID] = groups
		}
	case ch.SetEmergency != nil:
		delete(out.emergency, ch.SetEmergency.UserID)
	case ch.DisableUser != "":
		delete(out.emergency, ch.DisableUser)
	case ch.AssignRole != nil && out.in.Caller != nil && ch.AssignRole.UserID == caller.UserID:
		out.in.Caller.RoleTemplateIDs = append(without(out.in.Caller.RoleTemplateIDs, ch.AssignRole.RoleTemplateID), ch.AssignRole.RoleTemplateID)
	case ch.UnassignRole != nil && out.in.Caller != nil && ch.UnassignRole.UserID == caller.UserID:
		out.in.Caller.RoleTemplateIDs = without(out.in.Caller.RoleTemplateIDs, ch.UnassignRole.RoleTemplateID)
	}
	return out, nil
}

func without(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func keys(s policy.Set) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

// overridden reports a forced override of lockout protection: a warning in
// the log and, when a sink is set, a high-severity security alert.
func (s *Service) overridden(ctx context.Context, caller Caller, what string, findings policy.ValidationErrors) {
	slog.WarnContext(ctx, "conditional access lockout protection overridden with force", "change", what, "caller", caller.UserID, "findings", findings.Error())
	if s.alerts == nil {
		return
	}
	desc := "Lockout protection was overridden with force (" + what + ") by " + orUnknownCaller(caller.UserID) + ": " + findings.Error()
	if err := s.alerts(ctx, "Conditional Access lockout protection overridden", desc, caller.UserID); err != nil {
		slog.ErrorContext(ctx, "raising the lockout override alert failed", "err", err)
	}
}

func orUnknownCaller(id string) string {
	if id == "" {
		return "a token without a user"
	}
	return "user " + id
}
