package conditionalaccess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// Stable codes this package adds to internal/policy's.
const (
	// CodeStrengthInUse: a custom strength a policy still requires cannot
	// be deleted (409).
	CodeStrengthInUse = "authenticationStrengthInUse"
	// CodeDuplicateStrengthName: another custom strength has this
	// displayName, compared case-insensitively (409).
	CodeDuplicateStrengthName = "duplicateDisplayName"
	// CodeUnknownProperty and CodeBadJSON are the HTTP layer's codes for
	// the same faults, repeated here because PATCH bodies are decoded here,
	// after merging.
	CodeUnknownProperty = "unknownProperty"
	CodeBadJSON         = "invalidRequestBody"
)

// AdminApplicationID is the application the administrator saving a policy
// is taken to be using when lockout protection evaluates the policy for
// them: Microsoft Graph's app id, the resource the admin API imitates. A
// policy scoped to other applications does not lock the admin out of it.
const AdminApplicationID = "00000003-0000-0000-c000-000000000000"

// Snapshot is a consistent read of everything evaluation needs.
type Snapshot struct {
	Version   int64
	Policies  []policy.ConditionalAccessPolicy      // in creation order
	Strengths []policy.AuthenticationStrengthPolicy // custom strengths only
	Locations []policy.NamedLocation
}

// Store persists policies and custom strengths. Every write bumps the
// tenant-wide version in its own transaction. Implementations return apperr
// errors: NotFound for unknown ids, Conflict CodeStrengthInUse and
// CodeDuplicateStrengthName, Invalid policy.CodeAuthenticationStrengthNotFound
// when a policy references a custom strength that does not exist.
type Store interface {
	CreatePolicy(ctx context.Context, p policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error)
	GetPolicy(ctx context.Context, id string) (policy.ConditionalAccessPolicy, error)
	ListPolicies(ctx context.Context, p directory.Page) ([]policy.ConditionalAccessPolicy, error)
	// UpdatePolicy runs fn on the current policy under a row lock and
	// stores what it returns; when fn fails nothing is written.
	UpdatePolicy(ctx context.Context, id string, fn func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error)) (policy.ConditionalAccessPolicy, error)
	DeletePolicy(ctx context.Context, id string) error

	CreateStrength(ctx context.Context, s policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error)
	GetStrength(ctx context.Context, id string) (policy.AuthenticationStrengthPolicy, error)
	ListStrengths(ctx context.Context, p directory.Page) ([]policy.AuthenticationStrengthPolicy, error)
	UpdateStrength(ctx context.Context, id string, fn func(cur policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error)) (policy.AuthenticationStrengthPolicy, error)
	DeleteStrength(ctx context.Context, id string) error

	CreateNamedLocation(ctx context.Context, l policy.NamedLocation) (policy.NamedLocation, error)
	GetNamedLocation(ctx context.Context, id string) (policy.NamedLocation, error)
	ListNamedLocations(ctx context.Context) ([]policy.NamedLocation, error)
	UpdateNamedLocation(ctx context.Context, id string, fn func(cur policy.NamedLocation) (policy.NamedLocation, error)) (policy.NamedLocation, error)
	// DeleteNamedLocation: Conflict policy.CodeNamedLocationInUse while a
	// policy names the location.
	DeleteNamedLocation(ctx context.Context, id string) error

	// Version is the tenant-wide policy version: cheap, read on every
	// Compiled call.
	Version(ctx context.Context) (int64, error)
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Directory is what the service reads from the directory.
type Directory interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
	GetGroup(ctx context.Context, id string) (directory.Group, error)
	GroupIDsOf(ctx context.Context, userID string) ([]string, error)
	ListRoleAssignments(ctx context.Context, q directory.Query) ([]directory.RoleAssignment, error)
	EmergencyAccessUserIDs(ctx context.Context) ([]string, error)
}

// RegisteredModes reports the methods a user could perform now. Lockout
// protection needs it to tell "the admin will be asked for a passkey" from
// "the admin has none and is locked out".
type RegisteredModes func(ctx context.Context, userID string) (policy.ModeSet, error)

// Caller is the administrator making a change, from their token.
type Caller struct {
	UserID          string   // the token's sub; "" when the token names no user
	RoleTemplateIDs []string // the token's wids
	// Methods the admin's session holds (the token's amr), if any.
	Methods []policy.SatisfiedMethod
}

// Service implements the Conditional Access admin operations and serves
// the compiled policies to the sign-in flow. It is safe for concurrent use.
type Service struct {
	store      Store
	dir        Directory
	registered RegisteredModes
	alerts     AlertSink
	changes    ChangeLock

	refresh sync.Mutex // one snapshot read at a time; others wait and reuse it
	cache   atomic.Pointer[compiled]
}

// compiled is one immutable generation of the tenant's policies.
type compiled struct {
	version   int64
	locations map[string]bool // named location ids, lower case
	policies  *policy.CompiledPolicies
	err       error // Compile's error: kept so admins can still fix policies
	strengths policy.StrengthLookup
	custom    map[string]policy.AuthenticationStrengthPolicy
}

// New builds the service. registered may be nil: lockout protection then
// assumes the admin can perform any method and flags only policies that
// would block them outright.
func New(store Store, dir Directory, registered RegisteredModes) *Service {
	return &Service{store: store, dir: dir, registered: registered}
}

// Compiled returns the tenant's policies ready for evaluation. It costs one
// single-row query while nothing changed; after any change (through any
// server on the database) it reads and compiles the policies once.
func (s *Service) Compiled(ctx context.Context) (*policy.CompiledPolicies, error) {
	c, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, fmt.Errorf("conditional access: stored policies do not compile (version %d): %w", c.version, c.err)
	}
	return c.policies, nil
}

// CompiledAt is Compiled for a caller that already read the policy version
// (the passkey sign-in reads it with its challenge): no query at all while
// the cache is at least that new.
func (s *Service) CompiledAt(ctx context.Context, version int64) (*policy.CompiledPolicies, error) {
	c := s.cache.Load()
	if c == nil || c.version < version {
		var err error
		if c, err = s.current(ctx); err != nil {
			return nil, err
		}
	}
	if c.err != nil {
		return nil, fmt.Errorf("conditional access: stored policies do not compile (version %d): %w", c.version, c.err)
	}
	return c.policies, nil
}

// CachedVersion is the version of the policies this server holds
// compiled, without a query (ok false: none yet, or they do not compile).
// A caller that decides on them must check later that the version still
// holds (the passkey sign-in's claim: signinlog.ChallengeClaim); CompiledAt
// with it answers from the cache.
func (s *Service) CachedVersion() (version int64, ok bool) {
	c := s.cache.Load()
	if c == nil || c.err != nil {
		return 0, false
	}
	return c.version, true
}

// Strengths resolves built-in and custom authentication strengths as of the
// current policy version. The returned values share memory with the cache:
// treat them as read-only.
func (s *Service) Strengths(ctx context.Context) (policy.StrengthLookup, error) {
	c, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return c.strengths, nil
}

// groupNames looks up the display names of the groups the policies name,
// once per policy version, for the explanations. A group that cannot be read
// keeps its bare id: names are for people, never for decisions. (A rename
// shows from the next policy change on.)
func (s *Service) groupNames(ctx context.Context, ids []string) map[string]string {
	names := make(map[string]string, len(ids))
	for _, id := range ids {
		if g, err := s.dir.GetGroup(ctx, id); err == nil {
			names[id] = g.DisplayName
		}
	}
	return names
}

func (s *Service) current(ctx context.Context) (*compiled, error) {
	v, err := s.store.Version(ctx)
	if err != nil {
		return nil, err
	}
	// The version only grows, so a cached generation at least as new is
	// current; a newer one can appear when another call refreshed meanwhile.
	if c := s.cache.Load(); c != nil && c.version >= v {
		return c, nil
	}
	s.refresh.Lock()
	defer s.refresh.Unlock()
	if c := s.cache.Load(); c != nil && c.version >= v {
		return c, nil
	}
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	c := &compiled{version: snap.Version, custom: make(map[string]policy.AuthenticationStrengthPolicy, len(snap.Strengths))}
	all := make(map[string]policy.AuthenticationStrengthPolicy, len(snap.Strengths)+3)
	for _, st := range policy.BuiltInStrengths() {
		all[st.ID] = st
	}
	for _, st := range snap.Strengths {
		all[st.ID] = st
		c.custom[st.ID] = st
	}
	c.strengths = func(id string) (policy.AuthenticationStrengthPolicy, bool) {
		st, ok := all[id]
		return st, ok
	}
	c.policies, c.err = policy.Compile(snap.Policies, c.strengths)
	c.locations = make(map[string]bool, len(snap.Locations))
	for _, l := range snap.Locations {
		c.locations[strings.ToLower(l.ID)] = true
	}
	if c.err == nil {
		c.policies.SetLocations(snap.Locations)
	}
	if c.err != nil {
		slog.ErrorContext(ctx, "conditional access policies do not compile; sign-ins will fail until fixed", "version", snap.Version, "err", c.err)
	} else {
		c.policies.SetNames(s.groupNames(ctx, policy.GroupIDs(snap.Policies)))
	}
	s.cache.Store(c)
	return c, nil
}

// ---- policies ----

// CreatePolicy validates and saves a new policy.
func (s *Service) CreatePolicy(ctx context.Context, caller Caller, p policy.ConditionalAccessPolicy, force bool) (policy.ConditionalAccessPolicy, error) {
	unlock, err := s.LockChanges(ctx)
	if err != nil {
		return p, err
	}
	defer unlock()
	c, err := s.current(ctx)
	if err != nil {
		return p, err
	}
	lock, err := s.lockoutInput(ctx, caller, c.strengths, force)
	if err != nil {
		return p, err
	}
	p.ID = uuid.NewString()
	ctx, _ = audit.WithOverride(ctx) // filled by check when force overrides findings
	p.CanonicalizeIDs()
	if err := checkLocations(&p, c.locations); err != nil {
		return p, err
	}
	if err := s.check(ctx, &p, c.strengths, lock); err != nil {
		return p, err
	}
	out, err := s.store.CreatePolicy(ctx, p)
	if err != nil {
		return out, err
	}
	return s.expand(out, c.strengths), nil
}

// UpdatePolicy applies a Graph PATCH body to a policy.
func (s *Service) UpdatePolicy(ctx context.Context, caller Caller, id string, patch []byte, force bool) (policy.ConditionalAccessPolicy, error) {
	if err := directory.ValidateID(id); err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	unlock, err := s.LockChanges(ctx)
	if err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	defer unlock()
	c, err := s.current(ctx)
	if err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	// Loaded before the row lock is taken: they do not depend on the policy
	// and reading them inside would hold the lock across several queries.
	lock, err := s.lockoutInput(ctx, caller, c.strengths, force)
	if err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	ctx, _ = audit.WithOverride(ctx) // filled by check when force overrides findings
	out, err := s.store.UpdatePolicy(ctx, id, func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
		var next policy.ConditionalAccessPolicy
		if err := mergePatch(cur, patch, &next); err != nil {
			return cur, err
		}
		// Read-only properties keep their stored values whatever the body says.
		next.ID, next.CreatedDateTime, next.ModifiedDateTime = cur.ID, cur.CreatedDateTime, cur.ModifiedDateTime
		next.CanonicalizeIDs()
		if err := checkLocations(&next, c.locations); err != nil {
			return cur, err
		}
		return next, s.check(ctx, &next, c.strengths, lock)
	})
	if err != nil {
		return out, err
	}
	return s.expand(out, c.strengths), nil
}

// check validates p and applies lockout protection; it normalises the
// strength reference to its id, which is all a policy stores.
func (s *Service) check(ctx context.Context, p *policy.ConditionalAccessPolicy, strengths policy.StrengthLookup, lock lockoutInput) error {
	if g := p.GrantControls; g != nil && g.AuthenticationStrength != nil {
		g.AuthenticationStrength = &policy.AuthenticationStrengthPolicy{ID: g.AuthenticationStrength.ID}
	}
	if err := policy.ValidateConditionalAccessPolicy(*p, strengths); err != nil {
		return validationError(apperr.KindInvalid, err)
	}
	in := lock.in
	in.EmergencyAccountUserIDs = lock.notExcluded(*p)
	findings, err := policy.CheckLockout(*p, in)
	if err != nil {
		var ve policy.ValidationErrors
		if errors.As(err, &ve) {
			return validationError(apperr.KindConflict, err)
		}
		return err
	}
	if len(findings) > 0 {
		if o := audit.OverrideFrom(ctx); o != nil {
			o.Findings = findings.Error()
		}
		s.overridden(ctx, lock.caller, "policy \""+p.DisplayName+"\" ("+p.ID+") saved", findings)
	}
	return nil
}

// lockoutInput is what lockout protection needs besides the policy.
type lockoutInput struct {
	in     policy.LockoutInput
	caller Caller
	// emergency maps each emergency-access user to their groups, so an
	// account excluded through a group counts as excluded.
	emergency map[string][]string
}

// notExcluded lists the emergency accounts p does not exclude by user id or
// group. policy.CheckLockout compares user ids only; passing it just the
// accounts still in scope lets "exclude the emergency group" count.
func (l lockoutInput) notExcluded(p policy.ConditionalAccessPolicy) []string {
	p.CanonicalizeIDs() // a policy stored before ids were canonicalised
	u := p.Conditions.Users
	out := []string{}
	for id, groups := range l.emergency {
		excluded := contains(u.ExcludeUsers, id)
		for _, g := range groups {
			excluded = excluded || contains(u.ExcludeGroups, g)
		}
		if !excluded {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Service) lockoutInput(ctx context.Context, caller Caller, strengths policy.StrengthLookup, force bool) (lockoutInput, error) {
	ids, err := s.dir.EmergencyAccessUserIDs(ctx)
	if err != nil {
		return lockoutInput{}, err
	}
	l := lockoutInput{emergency: make(map[string][]string, len(ids))}
	for _, id := range ids {
		groups, err := s.dir.GroupIDsOf(ctx, id)
		if err != nil {
			return lockoutInput{}, err
		}
		l.emergency[id] = groups
	}
	sc, err := s.callerContext(ctx, caller)
	if err != nil {
		return lockoutInput{}, err
	}
	l.in = policy.LockoutInput{Caller: sc, Strengths: strengths, Force: force}
	l.caller = caller
	return l, nil
}

// callerContext describes the administrator as if they signed in to the
// admin API now.
func (s *Service) callerContext(ctx context.Context, c Caller) (*policy.SignInContext, error) {
	sc := &policy.SignInContext{
		UserID: c.UserID, RoleTemplateIDs: c.RoleTemplateIDs, GroupIDs: policy.Set{},
		ApplicationID: AdminApplicationID, ClientAppType: "browser", Methods: c.Methods,
		RegisteredMethods: ^policy.ModeSet(0),
	}
	if c.UserID == "" {
		return sc, nil
	}
	u, err := s.dir.GetUser(ctx, c.UserID)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		// A token for a user since deleted: judge by its roles alone.
		return sc, nil
	} else if err != nil {
		return nil, err
	}
	sc.IsEmergencyAccount = u.IsEmergencyAccess
	groups, err := s.dir.GroupIDsOf(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	sc.GroupIDs = policy.NewSet(groups...)
	if sc.RegisteredMethods, err = s.registered(ctx, c.UserID); err != nil {
		return nil, err
	}
	return sc, nil
}

// GetPolicy returns a policy with its authentication strength expanded, as
// Graph returns it.
func (s *Service) GetPolicy(ctx context.Context, id string) (policy.ConditionalAccessPolicy, error) {
	if err := directory.ValidateID(id); err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	c, err := s.current(ctx)
	if err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	p, err := s.store.GetPolicy(ctx, id)
	if err != nil {
		return p, err
	}
	return s.expand(p, c.strengths), nil
}

// ListPolicies returns one page of policies, ordered by id.
func (s *Service) ListPolicies(ctx context.Context, page directory.Page) ([]policy.ConditionalAccessPolicy, error) {
	c, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := s.store.ListPolicies(ctx, page)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i] = s.expand(ps[i], c.strengths)
	}
	return ps, nil
}

// DeletePolicy removes a policy.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	if err := directory.ValidateID(id); err != nil {
		return err
	}
	return s.store.DeletePolicy(ctx, id)
}

// expand fills the authentication strength in and turns null collections
// into [] as Graph shows them.
func (s *Service) expand(p policy.ConditionalAccessPolicy, strengths policy.StrengthLookup) policy.ConditionalAccessPolicy {
	if g := p.GrantControls; g != nil {
		gc := *g
		if gc.AuthenticationStrength != nil {
			if st, ok := strengths(gc.AuthenticationStrength.ID); ok {
				gc.AuthenticationStrength = &st
			}
		}
		nonNil(&gc.BuiltInControls, &gc.CustomAuthenticationFactors, &gc.TermsOfUse)
		p.GrantControls = &gc
	}
	u := &p.Conditions.Users
	nonNil(&u.IncludeUsers, &u.ExcludeUsers, &u.IncludeGroups, &u.ExcludeGroups, &u.IncludeRoles, &u.ExcludeRoles)
	a := &p.Conditions.Applications
	nonNil(&a.IncludeApplications, &a.ExcludeApplications, &a.IncludeAuthenticationContextClassReferences)
	nonNil(&p.Conditions.ClientAppTypes, &p.Conditions.UserRiskLevels, &p.Conditions.SignInRiskLevels)
	return p
}

func nonNil(lists ...*[]string) {
	for _, l := range lists {
		if *l == nil {
			*l = []string{}
		}
	}
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// validationError turns policy.ValidationErrors into one apperr error: the
// first problem is the error's code and target, all of them its details.
func validationError(kind apperr.Kind, err error) error {
	var ve policy.ValidationErrors
	if !errors.As(err, &ve) || len(ve) == 0 {
		return err
	}
	msg := ve[0].Message
	if len(ve) > 1 {
		msg += fmt.Sprintf(" (and %d more problem(s), see details)", len(ve)-1)
	}
	details := make([]apperr.Detail, len(ve))
	for i, v := range ve {
		details[i] = apperr.Detail{Code: v.Code, Message: v.Message, Target: v.Target}
	}
	e := &apperr.Error{Kind: kind, Code: ve[0].Code, Message: msg, Target: ve[0].Target, Err: err}
	return e.WithDetails(details...)
}
