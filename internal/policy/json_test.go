package policy

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/rpserver/rpserver/internal/jsonappend/jsontest"
)

// reasonAsBefore is Reason's JSON as the reflective encoder made it: the
// fields, then the text (the reference appendJSON is held to).
func reasonAsBefore(r Reason) ([]byte, error) {
	type plain Reason
	return json.Marshal(struct {
		plain
		Text string `json:"text"`
	}{plain(r), r.Text()})
}

func randomPolicyJSON(r *rand.Rand) AppliedConditionalAccessPolicy {
	src := jsontest.Source{R: r, Extra: []string{"MFA for everyone"}}
	str, strs := src.String, src.Strings
	reason := func() Reason {
		if r.IntN(3) == 0 {
			return Reason{}
		}
		codes := []string{ReasonIncluded, ReasonExcluded, ReasonNotIncluded, ReasonGrantSatisfied, ReasonGrantUnmet, ReasonPolicyDisabled, str()}
		conds := []string{"users", "application", "location", str()}
		return Reason{Code: codes[r.IntN(len(codes))], Condition: conds[r.IntN(len(conds))], Property: str(), Value: str(), ValueName: str(), Matched: str(), Previously: r.IntN(2) == 0}
	}
	rules := func() RuleSet {
		var s RuleSet
		for range r.IntN(6) {
			s.add(conditionNames[r.IntN(len(conditionNames))], ruleNames[r.IntN(len(ruleNames))])
		}
		if r.IntN(4) == 0 {
			s.reported = true // reported, with no rule
		}
		return s
	}
	a := AppliedConditionalAccessPolicy{ID: str(), DisplayName: str(), Result: str(),
		EnforcedGrantControls: strs(), EnforcedSessionControls: strs(),
		ConditionsSatisfied: Conditions(r.IntN(128)), ConditionsNotSatisfied: Conditions(r.IntN(128)),
		IncludeRulesSatisfied: rules(), ExcludeRulesSatisfied: rules(),
		Explanation: Explanation{Scope: reason(), Grant: reason()}}
	if r.IntN(2) == 0 {
		a.ConditionsSatisfied |= reportedBit
	}
	if r.IntN(2) == 0 {
		a.AuthenticationStrength = AuthenticationStrength{AuthenticationStrengthID: str(), DisplayName: str(), AuthenticationStrengthResult: str()}
	}
	return a
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	// A field added to one of these types must be added to AppendJSON too.
	for typ, fields := range map[reflect.Type]int{
		reflect.TypeFor[AppliedConditionalAccessPolicy](): 11,
		reflect.TypeFor[AuthenticationStrength]():         3,
		reflect.TypeFor[Explanation]():                    2,
		reflect.TypeFor[Reason]():                         7,
	} {
		if n := typ.NumField(); n != fields {
			t.Errorf("%s has %d fields; AppendJSON writes %d: update it (and this count)", typ, n, fields)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		a := randomPolicyJSON(r)
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON\n%s\nencoding/json\n%s", got, want)
		}
		for _, reason := range []Reason{a.Explanation.Scope, a.Explanation.Grant} {
			got, _ := reason.MarshalJSON()
			if before, _ := reasonAsBefore(reason); string(got) != string(before) {
				t.Fatalf("Reason.MarshalJSON\n%s\nbefore\n%s", got, before)
			}
		}
	}
}

func BenchmarkAppliedPolicyJSON(b *testing.B) {
	var a AppliedConditionalAccessPolicy
	a.ID, a.DisplayName, a.Result = "86ee412f-7d17-4d32-beb5-7d1bf6320e06", "MFA for everyone", "success"
	a.EnforcedGrantControls, a.EnforcedSessionControls = []string{"Mfa"}, []string{}
	a.ConditionsSatisfied, a.ConditionsNotSatisfied = ConditionApplication|ConditionUsers|reportedBit, reportedBit
	a.IncludeRulesSatisfied.add("users", "allUsers")
	a.IncludeRulesSatisfied.add("application", "allApps")
	a.ExcludeRulesSatisfied.reported = true
	a.Explanation = Explanation{Scope: Reason{Code: ReasonIncluded, Condition: "users", Property: "includeUsers", Value: "All"},
		Grant: Reason{Code: ReasonGrantSatisfied, Condition: "grantControls", Property: "mfa", Matched: "fido2"}}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = a.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(a)
		}
	})
}
