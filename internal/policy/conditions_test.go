package policy

import (
	"encoding/json"
	"testing"
)

// TestConditionsReported checks the beta appliedConditionalAccessPolicy
// fields derived from the decision: which configured conditions held,
// which one failed, and which include/exclude rules matched.
func TestConditionsReported(t *testing.T) {
	type mod func(*ConditionalAccessPolicy, *SignInContext)
	for _, tc := range []struct {
		name                    string
		mod                     mod
		result                  string
		satisfied, notSatisfied string
		include, exclude        string // JSON
	}{
		{"all users all apps", func(p *ConditionalAccessPolicy, c *SignInContext) {}, ResultFailure,
			"application,users", "none", `[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`, `[]`},
		{"user excluded by group", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users.ExcludeGroups = []string{"g-123"}
		}, ResultNotApplied, "none", "users", `[]`, `[{"conditionalAccessCondition":"users","ruleSatisfied":"groupId"}]`},
		{"user included by id, app by id", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeUsers: []string{alice}}
			p.Conditions.Applications.IncludeApplications = []string{appPort}
		}, ResultFailure, "application,users", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"userId"},{"conditionalAccessCondition":"application","ruleSatisfied":"appId"}]`, `[]`},
		{"included by role, app not included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeRoles: []string{roleGA}}
			p.Conditions.Applications.IncludeApplications = []string{appMail}
		}, ResultNotApplied, "users", "application", `[{"conditionalAccessCondition":"users","ruleSatisfied":"roleId"}]`, `[]`},
		{"app excluded", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications.ExcludeApplications = []string{appPort}
		}, ResultNotApplied, "users", "application", `[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"}]`,
			`[{"conditionalAccessCondition":"application","ruleSatisfied":"appId"}]`},
		{"authentication context", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeAuthenticationContextClassReferences: []string{"c1"}}
			c.AuthenticationContexts = []string{"c1"}
		}, ResultFailure, "application,users", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"acr"}]`, `[]`},
		{"client app type not matched", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.ClientAppTypes = []string{"exchangeActiveSync"}
		}, ResultNotApplied, "application,users", "clientType",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`, `[]`},
		{"platform excluded after client type held", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.ClientAppTypes = []string{"browser"}
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows"}}
		}, ResultNotApplied, "application,users,clientType", "devicePlatform",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`,
			`[{"conditionalAccessCondition":"devicePlatform","ruleSatisfied":"devicePlatform"}]`},
		{"every include rule", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeGroups: []string{"g-staff"}}
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"windows"}}
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{"loc-office"}}
			p.Conditions.UserRiskLevels = []string{"none", "low"}
		}, ResultFailure, "application,users,devicePlatform,location,userRisk", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"groupId"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"},` +
				`{"conditionalAccessCondition":"devicePlatform","ruleSatisfied":"devicePlatform"},{"conditionalAccessCondition":"location","ruleSatisfied":"locationId"}]`, `[]`},
		{"all platforms, trusted locations", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"all"}}
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAllTrusted}}
		}, ResultFailure, "application,users,devicePlatform,location", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"},` +
				`{"conditionalAccessCondition":"devicePlatform","ruleSatisfied":"allDevicePlatforms"},{"conditionalAccessCondition":"location","ruleSatisfied":"allTrustedLocations"}]`, `[]`},
		{"trusted location excluded", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{KeywordAllTrusted}}
		}, ResultNotApplied, "application,users", "location",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`,
			`[{"conditionalAccessCondition":"location","ruleSatisfied":"allTrustedLocations"}]`},
		{"all locations", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{"loc-home"}}
		}, ResultFailure, "application,users,location", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"},{"conditionalAccessCondition":"location","ruleSatisfied":"allLocations"}]`, `[]`},
		{"sign-in risk not matched after user risk held", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.UserRiskLevels = []string{"high"}
			p.Conditions.SignInRiskLevels = []string{"high"}
			c.UserRiskLevel = "high"
		}, ResultNotApplied, "application,users,userRisk", "signInRisk",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`, `[]`},
		{"disabled", func(p *ConditionalAccessPolicy, c *SignInContext) { p.State = StateDisabled }, ResultNotEnabled, "none", "none", `[]`, `[]`},
		{"report-only applies", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.State = StateReportOnly
			c.Methods = append(c.Methods, SatisfiedMethod{Mode: "fido2"})
		}, ResultReportOnlySuccess, "application,users", "none",
			`[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`, `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ctx := basePolicy("p1"), baseCtx()
			tc.mod(&p, ctx)
			a, _ := evalOne(t, p, ctx)
			if a.Result != tc.result {
				t.Fatalf("result = %s, want %s (%s)", a.Result, tc.result, a.Explanation.Text())
			}
			if got := a.ConditionsSatisfied.String(); got != tc.satisfied {
				t.Errorf("conditionsSatisfied = %q, want %q", got, tc.satisfied)
			}
			if got := a.ConditionsNotSatisfied.String(); got != tc.notSatisfied {
				t.Errorf("conditionsNotSatisfied = %q, want %q", got, tc.notSatisfied)
			}
			for _, rs := range []struct {
				name string
				set  RuleSet
				want string
			}{{"includeRulesSatisfied", a.IncludeRulesSatisfied, tc.include}, {"excludeRulesSatisfied", a.ExcludeRulesSatisfied, tc.exclude}} {
				b, err := json.Marshal(rs.set)
				if err != nil || string(b) != rs.want {
					t.Errorf("%s = %s (%v), want %s", rs.name, b, err, rs.want)
				}
				// A stored record reads back the same.
				var back RuleSet
				if err := json.Unmarshal(b, &back); err != nil || back != rs.set {
					t.Errorf("%s does not round-trip: %+v vs %+v (%v)", rs.name, back, rs.set, err)
				}
			}
			b, _ := json.Marshal(a)
			var back AppliedConditionalAccessPolicy
			if err := json.Unmarshal(b, &back); err != nil || back.ConditionsSatisfied != a.ConditionsSatisfied || back.ConditionsNotSatisfied != a.ConditionsNotSatisfied {
				t.Errorf("conditions do not round-trip: %s (%v)", b, err)
			}
		})
	}
}

func TestConditionsZeroIsOmitted(t *testing.T) {
	b, err := json.Marshal(AppliedConditionalAccessPolicy{ID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"conditionsSatisfied", "conditionsNotSatisfied", "includeRulesSatisfied", "excludeRulesSatisfied"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s written for an unreported policy: %s", k, b)
		}
	}
}

func TestRuleSetDropsUnknownValues(t *testing.T) {
	var s RuleSet
	if err := json.Unmarshal([]byte(`[{"conditionalAccessCondition":"us\"ers","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"}]`), &s); err != nil {
		t.Fatal(err)
	}
	if r := s.Rules(); len(r) != 1 || r[0] != (RuleSatisfied{"users", "allUsers"}) {
		t.Errorf("rules = %v", r)
	}
}
