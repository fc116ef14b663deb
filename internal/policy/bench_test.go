package policy

import (
	"strconv"
	"testing"
)

// benchPolicies builds n realistic policies: mostly group-scoped, some
// excluding groups, a mix of mfa, strengths, block and report-only, with
// app, platform and location conditions.
func benchPolicies(n int) []ConditionalAccessPolicy {
	ps := make([]ConditionalAccessPolicy, n)
	for i := range ps {
		p := basePolicy("p-" + strconv.Itoa(i))
		switch i % 5 {
		case 0:
			p.Conditions.Users = ConditionalAccessUsers{IncludeGroups: []string{"g-" + strconv.Itoa(i*7), "g-" + strconv.Itoa(i*7+1)}, ExcludeGroups: []string{"g-bg"}}
		case 1:
			p.Conditions.Users.ExcludeGroups = []string{"g-x" + strconv.Itoa(i), "g-y" + strconv.Itoa(i)}
			p.Conditions.Applications.IncludeApplications = []string{"app-" + strconv.Itoa(i)}
		case 2:
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
			p.Conditions.Users = ConditionalAccessUsers{IncludeRoles: []string{roleGA}}
			p.State = StateReportOnly
		case 3:
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{KeywordAllTrusted}}
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}}
		case 4:
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows"}}
			p.Conditions.ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients"}
		}
		ps[i] = p
	}
	return ps
}

func benchCtx(groups int) *SignInContext {
	c := baseCtx()
	c.GroupIDs = make(Set, groups)
	for i := range groups {
		c.GroupIDs["g-"+strconv.Itoa(i*13)] = struct{}{}
	}
	c.Methods = []SatisfiedMethod{{Mode: "password"}, {Mode: "fido2"}}
	return c
}

func benchEvaluate(b *testing.B, policies, groups int) {
	c, err := Compile(benchPolicies(policies), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := benchCtx(groups)
	var out Evaluation
	c.EvaluateInto(ctx, &out)
	if out.Decision != DecisionAllow {
		b.Fatalf("benchmark should exercise the allow path, got %s", out.Decision)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.EvaluateInto(ctx, &out)
	}
}

// BenchmarkEvaluate1Policy1000Groups is the baseline: same user, one policy.
func BenchmarkEvaluate1Policy1000Groups(b *testing.B) { benchEvaluate(b, 1, 1000) }

// BenchmarkEvaluate195Policies1000Groups is Entra's policy limit against a
// heavily grouped user.
func BenchmarkEvaluate195Policies1000Groups(b *testing.B) { benchEvaluate(b, 195, 1000) }

// BenchmarkEvaluate195Policies1000GroupsFresh allocates a new result each
// time, as plain Evaluate does.
func BenchmarkEvaluate195Policies1000GroupsFresh(b *testing.B) {
	c, _ := Compile(benchPolicies(195), nil)
	ctx := benchCtx(1000)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Evaluate(ctx)
	}
}
