package graphsdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/auditlogs"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// staticToken is the "static bearer token" provider an admin script uses
// against a lab: the token `rpserver admin token` prints.
type staticToken struct{ token string }

func (s staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return s.token, nil
}

func (s staticToken) GetAllowedHostsValidator() *absauth.AllowedHostsValidator {
	v, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{"127.0.0.1", "localhost"})
	if err != nil {
		panic(err) // constant, valid host names
	}
	return v
}

type lab struct {
	t       *testing.T
	ctx     context.Context
	srv     *servertest.Server
	token   string
	adapter *msgraph.GraphRequestAdapter
	client  *msgraph.GraphServiceClient
}

func ptr[T any](v T) *T { return &v }

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %s", what, describe(err))
		}
		return v
	}
}

// describe prints Graph's error body from the SDK's ODataError.
func describe(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil {
		m := oe.GetErrorEscaped()
		return fmt.Sprintf("%v: %s: %s", err, deref(m.GetCode()), deref(m.GetMessage()))
	}
	return err.Error()
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// raw sends a request through the SDK's own adapter (auth, compression and
// retry middleware included) for shapes the v1.0 SDK models lack; out may
// be nil.
func (l *lab) raw(method abs.HttpMethod, path string, body any, out any) {
	l.t.Helper()
	ri := abs.NewRequestInformation()
	ri.Method = method
	u, err := url.Parse(l.srv.URL + path)
	if err != nil {
		l.t.Fatal(err)
	}
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			l.t.Fatal(err)
		}
		ri.SetStreamContentAndContentType(b, "application/json")
	}
	if out == nil {
		if err := l.adapter.SendNoContent(l.ctx, ri, nil); err != nil {
			l.t.Fatalf("%s %s: %v", method, path, err)
		}
		return
	}
	got, err := l.adapter.SendPrimitive(l.ctx, ri, "[]byte", nil)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	if err := json.Unmarshal(got.([]byte), out); err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func newLab(t *testing.T) *lab {
	srv := servertest.New(t, server.Config{})
	token := srv.AdminToken(t, directory.RoleGlobalAdministrator)
	// NewGraphRequestAdapter installs the SDK's default middleware (gzip
	// request bodies, retry, redirect, parameter decoding, user agent).
	adapter, err := msgraph.NewGraphRequestAdapter(absauth.NewBaseBearerTokenAuthenticationProvider(staticToken{token}))
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(srv.URL + "/v1.0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &lab{t: t, ctx: ctx, srv: srv, token: token, adapter: adapter, client: msgraph.NewGraphServiceClient(adapter)}
}

func (l *lab) user(upn, name string) models.Userable {
	l.t.Helper()
	u := models.NewUser()
	u.SetUserPrincipalName(ptr(upn))
	u.SetDisplayName(ptr(name))
	u.SetAccountEnabled(ptr(true))
	u.SetMailNickname(ptr(strings.Split(upn, "@")[0]))
	u.SetGivenName(ptr(strings.Fields(name)[0]))
	u.SetJobTitle(ptr("Pilot"))
	u.SetUsageLocation(ptr("DE"))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr("Correct-Horse-Battery-9"))
	pp.SetForceChangePasswordNextSignIn(ptr(false))
	u.SetPasswordProfile(pp)
	return must[models.Userable](l.t, "create user "+upn)(l.client.Users().Post(l.ctx, u, nil))
}

// TestLabSetupWithTheGraphSDK is a full lab setup as an admin scripts it
// with msgraph-sdk-go against production, every call read back.
func TestLabSetupWithTheGraphSDK(t *testing.T) {
	l := newLab(t)
	ctx, c := l.ctx, l.client

	// Users, read back by id and by UPN (the SDK escapes the @).
	alice := l.user("alice@lab.example", "Alice Pilot")
	bob := l.user("bob@lab.example", "Bob Wave")
	got := must[models.Userable](t, "get by UPN")(c.Users().ByUserId("alice@lab.example").Get(ctx, nil))
	if deref(got.GetId()) != deref(alice.GetId()) || deref(got.GetJobTitle()) != "Pilot" || deref(got.GetUsageLocation()) != "DE" {
		t.Fatalf("read back: %s %s", deref(got.GetId()), deref(got.GetJobTitle()))
	}
	patch := models.NewUser()
	patch.SetDepartment(ptr("IT"))
	must[models.Userable](t, "patch user")(c.Users().ByUserId(deref(bob.GetId())).Patch(ctx, patch, nil))
	filter := "userPrincipalName eq 'bob@lab.example'"
	list := must[models.UserCollectionResponseable](t, "filter users")(c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id", "department"}}}))
	if v := list.GetValue(); len(v) != 1 || deref(v[0].GetDepartment()) != "IT" {
		t.Fatalf("filtered users: %d", len(v))
	}
	hdr := abs.NewRequestHeaders()
	hdr.Add("ConsistencyLevel", "eventual")
	counted := must[models.UserCollectionResponseable](t, "count users")(c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		Headers: hdr, QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Count: ptr(true), Search: ptr(`"displayName:wave"`)}}))
	if counted.GetOdataCount() == nil || *counted.GetOdataCount() != 1 {
		t.Fatalf("$count with $search: %v", counted.GetOdataCount())
	}

	// A group created with its members bound, another member by $ref.
	g := models.NewGroup()
	g.SetDisplayName(ptr("GRP-Passkey-Pilot"))
	g.SetMailEnabled(ptr(false))
	g.SetSecurityEnabled(ptr(true))
	g.SetMailNickname(ptr("passkey-pilot"))
	g.SetAdditionalData(map[string]any{"members@odata.bind": []string{"https://graph.microsoft.com/v1.0/users/" + deref(alice.GetId())}})
	group := must[models.Groupable](t, "create group")(c.Groups().Post(ctx, g, nil))
	gid := deref(group.GetId())
	ref := models.NewReferenceCreate()
	ref.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + deref(bob.GetId())))
	if err := c.Groups().ByGroupId(gid).Members().Ref().Post(ctx, ref, nil); err != nil {
		t.Fatalf("add member: %s", describe(err))
	}
	members := must[models.DirectoryObjectCollectionResponseable](t, "members")(c.Groups().ByGroupId(gid).Members().Get(ctx, nil))
	for _, m := range members.GetValue() {
		if _, ok := m.(models.Userable); !ok {
			t.Fatalf("member %s is a %T, not a user (missing @odata.type)", deref(m.GetId()), m)
		}
	}
	if n := len(members.GetValue()); n != 2 {
		t.Fatalf("members: %d", n)
	}
	if us := must[models.UserCollectionResponseable](t, "members cast")(c.Groups().ByGroupId(gid).Members().GraphUser().Get(ctx, nil)); len(us.GetValue()) != 2 {
		t.Fatalf("members/microsoft.graph.user: %d", len(us.GetValue()))
	}
	if gs := must[models.GroupCollectionResponseable](t, "memberOf cast")(c.Users().ByUserId(deref(alice.GetId())).MemberOf().GraphGroup().Get(ctx, nil)); len(gs.GetValue()) != 1 {
		t.Fatalf("memberOf/microsoft.graph.group: %d", len(gs.GetValue()))
	}

	// A role assignment, found by the filter admins use, with $expand.
	const authAdmin = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	defs := must[models.UnifiedRoleDefinitionCollectionResponseable](t, "role definitions")(c.RoleManagement().Directory().RoleDefinitions().Get(ctx,
		&rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetRequestConfiguration{QueryParameters: &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetQueryParameters{
			Filter: ptr("displayName eq 'Authentication Administrator'")}}))
	if v := defs.GetValue(); len(v) != 1 || deref(v[0].GetId()) != authAdmin {
		t.Fatalf("roleDefinitions $filter: %d", len(v))
	}
	ra := models.NewUnifiedRoleAssignment()
	ra.SetPrincipalId(bob.GetId())
	ra.SetRoleDefinitionId(ptr(authAdmin))
	ra.SetDirectoryScopeId(ptr("/"))
	must[models.UnifiedRoleAssignmentable](t, "role assignment")(c.RoleManagement().Directory().RoleAssignments().Post(ctx, ra, nil))
	ras := must[models.UnifiedRoleAssignmentCollectionResponseable](t, "list assignments")(c.RoleManagement().Directory().RoleAssignments().Get(ctx,
		&rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{
			Filter: ptr("principalId eq '" + deref(bob.GetId()) + "'"), Expand: []string{"principal", "roleDefinition"}}}))
	if v := ras.GetValue(); len(v) != 1 || v[0].GetRoleDefinition() == nil || deref(v[0].GetRoleDefinition().GetDisplayName()) != "Authentication Administrator" || v[0].GetPrincipal() == nil {
		t.Fatalf("assignments with $expand: %d", len(v))
	}

	// FIDO2 for the pilot group (v1.0 model), then passkey profiles: the
	// SDK models no passkeyProfiles, so the beta shape goes raw.
	methodConfigs := c.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations()
	fido := models.NewFido2AuthenticationMethodConfiguration()
	fido.SetState(ptr(models.ENABLED_AUTHENTICATIONMETHODSTATE))
	fido.SetIsSelfServiceRegistrationAllowed(ptr(true))
	must[models.AuthenticationMethodConfigurationable](t, "patch fido2")(methodConfigs.ByAuthenticationMethodConfigurationId("fido2").Patch(ctx, fido, nil))
	var profiles struct {
		PasskeyProfiles []struct{ ID, Name string } `json:"passkeyProfiles"`
	}
	// The opt-in as Microsoft Learn's example does it: the Default profile
	// sent in passkeyProfiles, defaultPasskeyProfile not named.
	l.raw(abs.PATCH, "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2", map[string]any{
		"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
		"passkeyProfiles": []any{
			map[string]any{"id": "00000000-0000-0000-0000-000000000001", "name": "Default passkey profile", "passkeyTypes": "deviceBound,synced",
				"attestationEnforcement": "disabled", "keyRestrictions": map[string]any{"isEnforced": false, "enforcementType": "block", "aaGuids": []string{}}},
			map[string]any{"name": "Passkey - Admins - Microsoft Authenticator", "passkeyTypes": "deviceBound", "attestationEnforcement": "registrationOnly",
				"keyRestrictions": map[string]any{"isEnforced": true, "enforcementType": "allow", "aaGuids": []string{"de1e552d-db1d-4423-a619-566b625cdc84", "90a3ccdf-635c-4729-a248-9b709135078f"}}},
		},
	}, nil)
	l.raw(abs.GET, "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2", nil, &profiles)
	if len(profiles.PasskeyProfiles) != 2 || profiles.PasskeyProfiles[1].Name != "Passkey - Admins - Microsoft Authenticator" {
		t.Fatalf("passkey profiles read back: %+v", profiles)
	}
	l.raw(abs.PATCH, "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2", map[string]any{
		"includeTargets": []any{map[string]any{"id": gid, "targetType": "group", "isRegistrationRequired": false,
			"allowedPasskeyProfiles": []string{profiles.PasskeyProfiles[1].ID}}}}, nil)
	back := must[models.AuthenticationMethodConfigurationable](t, "get fido2")(methodConfigs.ByAuthenticationMethodConfigurationId("fido2").Get(ctx, nil))
	if f, ok := back.(models.Fido2AuthenticationMethodConfigurationable); !ok || len(f.GetIncludeTargets()) != 1 || deref(f.GetIncludeTargets()[0].GetId()) != gid {
		t.Fatalf("fido2 read back: %T", back)
	}

	// The TAP policy for the group, and a multi-use TAP for Alice.
	tapCfg := models.NewTemporaryAccessPassAuthenticationMethodConfiguration()
	tapCfg.SetState(ptr(models.ENABLED_AUTHENTICATIONMETHODSTATE))
	tapCfg.SetIsUsableOnce(ptr(false))
	target := models.NewAuthenticationMethodTarget()
	target.SetId(ptr(gid))
	target.SetTargetType(ptr(models.GROUP_AUTHENTICATIONMETHODTARGETTYPE))
	target.SetIsRegistrationRequired(ptr(false))
	tapCfg.SetIncludeTargets([]models.AuthenticationMethodTargetable{target})
	must[models.AuthenticationMethodConfigurationable](t, "patch TAP policy")(methodConfigs.ByAuthenticationMethodConfigurationId("temporaryAccessPass").Patch(ctx, tapCfg, nil))
	tapReq := models.NewTemporaryAccessPassAuthenticationMethod()
	tapReq.SetLifetimeInMinutes(ptr(int32(60)))
	tapReq.SetIsUsableOnce(ptr(false))
	tap := must[models.TemporaryAccessPassAuthenticationMethodable](t, "issue TAP")(c.Users().ByUserId(deref(alice.GetId())).Authentication().TemporaryAccessPassMethods().Post(ctx, tapReq, nil))
	if deref(tap.GetTemporaryAccessPass()) == "" || tap.GetIsUsable() == nil || !*tap.GetIsUsable() {
		t.Fatal("the TAP came back without its pass or not usable")
	}
	methods := must[models.AuthenticationMethodCollectionResponseable](t, "methods")(c.Users().ByUserId(deref(alice.GetId())).Authentication().Methods().Get(ctx, nil))
	// Polymorphic: Alice's password (Graph's fixed password-method id) and
	// her TAP, each deserialised by the SDK as its own type.
	var pwID string
	var sawTAP bool
	for _, m := range methods.GetValue() {
		switch m.(type) {
		case models.PasswordAuthenticationMethodable:
			pwID = deref(m.GetId())
		case models.TemporaryAccessPassAuthenticationMethodable:
			sawTAP = true
		default:
			t.Fatalf("authentication/methods item is a %T", m)
		}
	}
	if len(methods.GetValue()) != 2 || pwID != "28c10230-6103-485e-b985-444c60001490" || !sawTAP {
		t.Fatalf("authentication/methods: %d items, password %q, TAP %v", len(methods.GetValue()), pwID, sawTAP)
	}
	pw := must[models.PasswordAuthenticationMethodable](t, "password method")(c.Users().ByUserId(deref(alice.GetId())).Authentication().PasswordMethods().ByPasswordAuthenticationMethodId(pwID).Get(ctx, nil))
	if pw.GetCreatedDateTime() == nil || pw.GetPassword() != nil {
		t.Fatal("the password method came back without createdDateTime or with a password")
	}
	if oath := must[models.SoftwareOathAuthenticationMethodCollectionResponseable](t, "softwareOath methods")(c.Users().ByUserId(deref(alice.GetId())).Authentication().SoftwareOathMethods().Get(ctx, nil)); len(oath.GetValue()) != 0 {
		t.Fatalf("softwareOathMethods: %d", len(oath.GetValue()))
	}

	// The policy root: v1.0 through the SDK's model, the beta
	// systemCredentialPreferences through the raw request builder.
	root := must[models.AuthenticationMethodsPolicyable](t, "methods policy")(c.Policies().AuthenticationMethodsPolicy().Get(ctx, nil))
	if root.GetRegistrationEnforcement() == nil || root.GetRegistrationEnforcement().GetAuthenticationMethodsRegistrationCampaign() == nil {
		t.Fatal("authenticationMethodsPolicy came back without registrationEnforcement")
	}
	l.raw(abs.PATCH, "/beta/policies/authenticationMethodsPolicy", map[string]any{"systemCredentialPreferences": map[string]any{
		"@odata.type": "#microsoft.graph.systemCredentialPreferences", "state": "enabled",
		"excludeTargets": []map[string]string{{"id": deref(bob.GetId()), "targetType": "user"}}}}, nil)
	var betaRoot struct {
		SystemCredentialPreferences struct {
			State          string `json:"state"`
			ExcludeTargets []struct {
				ID string `json:"id"`
			} `json:"excludeTargets"`
		} `json:"systemCredentialPreferences"`
	}
	l.raw(abs.GET, "/beta/policies/authenticationMethodsPolicy", nil, &betaRoot)
	if p := betaRoot.SystemCredentialPreferences; p.State != "enabled" || len(p.ExcludeTargets) != 1 || p.ExcludeTargets[0].ID != deref(bob.GetId()) {
		t.Fatalf("systemCredentialPreferences read back: %+v", p)
	}

	// A custom authentication strength.
	st := models.NewAuthenticationStrengthPolicy()
	st.SetDisplayName(ptr("Passkeys only"))
	st.SetDescription(ptr("FIDO2 security keys and passkeys"))
	st.SetAllowedCombinations([]models.AuthenticationMethodModes{models.FIDO2_AUTHENTICATIONMETHODMODES})
	strength := must[models.AuthenticationStrengthPolicyable](t, "create strength")(c.Policies().AuthenticationStrengthPolicies().Post(ctx, st, nil))
	readSt := must[models.AuthenticationStrengthPolicyable](t, "get strength")(c.Policies().AuthenticationStrengthPolicies().ByAuthenticationStrengthPolicyId(deref(strength.GetId())).Get(ctx, nil))
	if combos := readSt.GetAllowedCombinations(); len(combos) != 1 || combos[0] != models.FIDO2_AUTHENTICATIONMETHODMODES {
		t.Fatalf("strength read back: %v", combos)
	}
	// A fido2 combination configuration (allowed AAGUIDs) on it: created,
	// read by id as its derived type, changed, removed.
	ccReq := models.NewFido2CombinationConfiguration()
	ccReq.SetAllowedAAGUIDs([]string{"90a3ccdf-635c-4729-a248-9b709135078f"})
	ccReq.SetAppliesToCombinations([]models.AuthenticationMethodModes{models.FIDO2_AUTHENTICATIONMETHODMODES})
	stCCs := c.Policies().AuthenticationStrengthPolicies().ByAuthenticationStrengthPolicyId(deref(strength.GetId())).CombinationConfigurations()
	cc := must[models.AuthenticationCombinationConfigurationable](t, "create combination configuration")(stCCs.Post(ctx, ccReq, nil))
	readCC := must[models.AuthenticationCombinationConfigurationable](t, "get combination configuration")(stCCs.ByAuthenticationCombinationConfigurationId(deref(cc.GetId())).Get(ctx, nil))
	if f, ok := readCC.(models.Fido2CombinationConfigurationable); !ok || len(f.GetAllowedAAGUIDs()) != 1 {
		t.Fatalf("combination configuration read back as %T", readCC)
	}
	ccPatch := models.NewFido2CombinationConfiguration()
	ccPatch.SetAllowedAAGUIDs([]string{"90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84"})
	if _, err := stCCs.ByAuthenticationCombinationConfigurationId(deref(cc.GetId())).Patch(ctx, ccPatch, nil); err != nil {
		t.Fatalf("patch combination configuration: %s", describe(err))
	}
	if err := stCCs.ByAuthenticationCombinationConfigurationId(deref(cc.GetId())).Delete(ctx, nil); err != nil {
		t.Fatalf("delete combination configuration: %s", describe(err))
	}

	// A named location and a report-only policy requiring the strength
	// outside it.
	loc := models.NewIpNamedLocation()
	// The model does not set its @odata.type, which Graph requires on this
	// abstract type: Graph's own Go snippet for "Create namedLocation" sets it.
	loc.SetOdataType(ptr("#microsoft.graph.ipNamedLocation"))
	loc.SetDisplayName(ptr("Head office"))
	loc.SetIsTrusted(ptr(true))
	cidr := models.NewIPv4CidrRange()
	cidr.SetCidrAddress(ptr("203.0.113.0/24"))
	loc.SetIpRanges([]models.IpRangeable{cidr})
	createdLoc := must[models.NamedLocationable](t, "named location")(c.Identity().ConditionalAccess().NamedLocations().Post(ctx, loc, nil))
	if ip, ok := createdLoc.(models.IpNamedLocationable); !ok || len(ip.GetIpRanges()) != 1 {
		t.Fatalf("named location read back as %T", createdLoc)
	}
	pol := models.NewConditionalAccessPolicy()
	pol.SetDisplayName(ptr("CA010-Pilot-RequirePasskey-OutsideHQ"))
	pol.SetState(ptr(models.ENABLEDFORREPORTINGBUTNOTENFORCED_CONDITIONALACCESSPOLICYSTATE))
	cond := models.NewConditionalAccessConditionSet()
	cu := models.NewConditionalAccessUsers()
	cu.SetIncludeGroups([]string{gid})
	cond.SetUsers(cu)
	ca := models.NewConditionalAccessApplications()
	ca.SetIncludeApplications([]string{"All"})
	cond.SetApplications(ca)
	cond.SetClientAppTypes([]models.ConditionalAccessClientApp{models.ALL_CONDITIONALACCESSCLIENTAPP})
	cl := models.NewConditionalAccessLocations()
	cl.SetIncludeLocations([]string{"All"})
	cl.SetExcludeLocations([]string{deref(createdLoc.GetId())})
	cond.SetLocations(cl)
	pol.SetConditions(cond)
	grant := models.NewConditionalAccessGrantControls()
	grant.SetOperator(ptr("OR"))
	ref2 := models.NewAuthenticationStrengthPolicy()
	ref2.SetId(strength.GetId())
	grant.SetAuthenticationStrength(ref2)
	pol.SetGrantControls(grant)
	createdPol := must[models.ConditionalAccessPolicyable](t, "CA policy")(c.Identity().ConditionalAccess().Policies().Post(ctx, pol, nil))
	readPol := must[models.ConditionalAccessPolicyable](t, "get CA policy")(c.Identity().ConditionalAccess().Policies().ByConditionalAccessPolicyId(deref(createdPol.GetId())).Get(ctx, nil))
	if readPol.GetState() == nil || *readPol.GetState() != models.ENABLEDFORREPORTINGBUTNOTENFORCED_CONDITIONALACCESSPOLICYSTATE ||
		readPol.GetConditions().GetLocations() == nil || readPol.GetConditions().GetLocations().GetExcludeLocations()[0] != deref(createdLoc.GetId()) ||
		deref(readPol.GetGrantControls().GetAuthenticationStrength().GetDisplayName()) != "Passkeys only" {
		t.Fatal("CA policy did not read back as written")
	}

	// Two sign-ins with the TAP, then the sign-in log filtered to Alice
	// and paged one by one with the SDK's PageIterator.
	for range 2 {
		l.signInWithTAP("alice@lab.example", deref(tap.GetTemporaryAccessPass()))
	}
	aliceID := deref(alice.GetId())
	var seen []models.SignInable
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		seen = nil
		page := must[models.SignInCollectionResponseable](t, "sign-ins")(c.AuditLogs().SignIns().Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{
			QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: ptr("userId eq '" + aliceID + "'"), Top: ptr(int32(1))}}))
		it, err := msgraphcore.NewPageIterator[models.SignInable](page, l.adapter, models.CreateSignInCollectionResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Iterate(ctx, func(si models.SignInable) bool { seen = append(seen, si); return true }); err != nil {
			t.Fatalf("PageIterator: %s", describe(err))
		}
		if len(seen) < 2 {
			time.Sleep(200 * time.Millisecond) // the log is written in batches
		}
	}
	if len(seen) != 2 {
		t.Fatalf("sign-ins paged: %d, want 2", len(seen))
	}
	for _, si := range seen {
		if deref(si.GetUserId()) != aliceID || si.GetStatus() == nil || si.GetStatus().GetErrorCode() == nil || *si.GetStatus().GetErrorCode() != 0 {
			t.Fatalf("sign-in %s: user %s", deref(si.GetId()), deref(si.GetUserId()))
		}
		var reportOnly bool
		for _, a := range si.GetAppliedConditionalAccessPolicies() {
			reportOnly = reportOnly || deref(a.GetId()) == deref(createdPol.GetId())
		}
		if !reportOnly {
			t.Fatalf("sign-in %s does not list the report-only policy", deref(si.GetId()))
		}
		// The properties the lab fills from the request and the app, and
		// those it reports empty (docs/api.md, Sign-in logs).
		if deref(si.GetResourceId()) != "00000000-0000-0000-0000-00000000a001" || deref(si.GetResourceDisplayName()) != "rpserver lab portal" ||
			si.GetRiskDetail() == nil || *si.GetRiskDetail() != models.NONE_RISKDETAIL || si.GetRiskEventTypesV2() == nil || len(si.GetRiskEventTypesV2()) != 0 ||
			si.GetLocation() != nil {
			t.Fatalf("sign-in %s: resource %q %q, riskDetail %v, riskEventTypes_v2 %v, location %v", deref(si.GetId()),
				deref(si.GetResourceId()), deref(si.GetResourceDisplayName()), si.GetRiskDetail(), si.GetRiskEventTypesV2(), si.GetLocation())
		}
	}

	// Risky users: the lab raises risk with its setRiskLevel extension;
	// the SDK filters, reads and dismisses.
	l.raw(abs.POST, "/v1.0/identityProtection/riskyUsers/"+deref(bob.GetId())+"/setRiskLevel", map[string]string{"riskLevel": "high"}, &struct{}{})
	risky := must[models.RiskyUserCollectionResponseable](t, "risky users")(c.IdentityProtection().RiskyUsers().Get(ctx, &identityprotection.RiskyUsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &identityprotection.RiskyUsersRequestBuilderGetQueryParameters{Filter: ptr("riskLevel eq 'high'")}}))
	if v := risky.GetValue(); len(v) != 1 || deref(v[0].GetId()) != deref(bob.GetId()) {
		t.Fatalf("risky users filtered: %d", len(v))
	}
	dismiss := identityprotection.NewRiskyUsersDismissPostRequestBody()
	dismiss.SetUserIds([]string{deref(bob.GetId())})
	if err := c.IdentityProtection().RiskyUsers().Dismiss().Post(ctx, dismiss, nil); err != nil {
		t.Fatalf("dismiss: %s", describe(err))
	}
	ru := must[models.RiskyUserable](t, "risky user")(c.IdentityProtection().RiskyUsers().ByRiskyUserId(deref(bob.GetId())).Get(ctx, nil))
	if ru.GetRiskState() == nil || *ru.GetRiskState() != models.DISMISSED_RISKSTATE {
		t.Fatalf("risk state after dismiss: %v", ru.GetRiskState())
	}
	// The history: setRiskLevel then dismiss, newest first.
	hist := must[models.RiskyUserHistoryItemCollectionResponseable](t, "risky user history")(c.IdentityProtection().RiskyUsers().ByRiskyUserId(deref(bob.GetId())).History().Get(ctx, nil))
	if v := hist.GetValue(); len(v) != 2 || v[0].GetRiskState() == nil || *v[0].GetRiskState() != models.DISMISSED_RISKSTATE ||
		v[0].GetActivity() == nil || v[0].GetActivity().GetDetail() == nil || *v[0].GetActivity().GetDetail() != models.ADMINDISMISSEDALLRISKFORUSER_RISKDETAIL ||
		deref(v[0].GetUserId()) != deref(bob.GetId()) || v[1].GetRiskState() == nil || *v[1].GetRiskState() != models.ATRISK_RISKSTATE {
		t.Fatalf("risky user history: %d items", len(v))
	}

	// Revoking Alice's sessions.
	rv := must[users.ItemRevokeSignInSessionsPostResponseable](t, "revoke")(c.Users().ByUserId("alice@lab.example").RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil))
	if rv.GetValue() == nil || !*rv.GetValue() {
		t.Fatal("revokeSignInSessions did not answer value: true")
	}

	// Reverting the TAP configuration to Entra's default (Graph's DELETE).
	tapCfgs := c.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().ByAuthenticationMethodConfigurationId("temporaryAccessPass")
	if err := tapCfgs.Delete(ctx, nil); err != nil {
		t.Fatalf("reset TAP configuration: %s", describe(err))
	}
	reset := must[models.AuthenticationMethodConfigurationable](t, "TAP configuration")(tapCfgs.Get(ctx, nil))
	if cfg, ok := reset.(models.TemporaryAccessPassAuthenticationMethodConfigurationable); !ok || reset.GetState() == nil ||
		*reset.GetState() != models.DISABLED_AUTHENTICATIONMETHODSTATE || cfg.GetDefaultLifetimeInMinutes() == nil || *cfg.GetDefaultLifetimeInMinutes() != 60 {
		t.Fatalf("TAP configuration after reset: %T state %v", reset, reset.GetState())
	}
}

// signInWithTAP is the user's side (not Graph): the lab's sign-in endpoint.
func (l *lab) signInWithTAP(upn, pass string) {
	l.t.Helper()
	body := fmt.Sprintf(`{"userPrincipalName":%q,"temporaryAccessPass":%q}`, upn, pass)
	res, err := http.Post(l.srv.URL+"/signin/tap", "application/json", strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		l.t.Fatalf("TAP sign-in: %d %s", res.StatusCode, raw)
	}
}
