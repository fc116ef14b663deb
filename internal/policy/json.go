package policy

import "github.com/rpserver/rpserver/internal/jsonappend"

// AppendJSON appends a as encoding/json encodes it (tags, omissions and
// the MarshalJSON methods of its parts), without reflection: every sign-in
// record carries its applied policies (signinlog), and the reflective
// encoder, re-validating each MarshalJSON result, was most of the record's
// encoding time. TestAppendJSONMatchesEncodingJSON holds it to
// json.Marshal's bytes, and fails when a field is added here but not there.
func (a *AppliedConditionalAccessPolicy) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, a.ID)
	b = append(b, `,"displayName":`...)
	b = jsonappend.String(b, a.DisplayName)
	b = append(b, `,"result":`...)
	b = jsonappend.String(b, a.Result)
	b = append(b, `,"enforcedGrantControls":`...)
	b = jsonappend.Strings(b, a.EnforcedGrantControls)
	b = append(b, `,"enforcedSessionControls":`...)
	b = jsonappend.Strings(b, a.EnforcedSessionControls)
	if s := a.AuthenticationStrength; s != (AuthenticationStrength{}) {
		b = append(b, `,"authenticationStrength":{"authenticationStrengthId":`...)
		b = jsonappend.String(b, s.AuthenticationStrengthID)
		b = append(b, `,"displayName":`...)
		b = jsonappend.String(b, s.DisplayName)
		b = append(b, `,"authenticationStrengthResult":`...)
		b = jsonappend.String(b, s.AuthenticationStrengthResult)
		b = append(b, '}')
	}
	if a.ConditionsSatisfied != 0 {
		b = append(b, `,"conditionsSatisfied":`...)
		b = append(b, conditionJSON[a.ConditionsSatisfied&conditionsKnown]...)
	}
	if a.ConditionsNotSatisfied != 0 {
		b = append(b, `,"conditionsNotSatisfied":`...)
		b = append(b, conditionJSON[a.ConditionsNotSatisfied&conditionsKnown]...)
	}
	if !a.IncludeRulesSatisfied.IsZero() {
		b = append(b, `,"includeRulesSatisfied":`...)
		b = a.IncludeRulesSatisfied.appendJSON(b)
	}
	if !a.ExcludeRulesSatisfied.IsZero() {
		b = append(b, `,"excludeRulesSatisfied":`...)
		b = a.ExcludeRulesSatisfied.appendJSON(b)
	}
	b = append(b, `,"explanation":{"scope":`...)
	b = a.Explanation.Scope.appendJSON(b)
	if a.Explanation.Grant != (Reason{}) {
		b = append(b, `,"grant":`...)
		b = a.Explanation.Grant.appendJSON(b)
	}
	return append(b, "}}"...)
}

// appendJSON is Reason's JSON: its fields, then the rendered text.
func (r *Reason) appendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = jsonappend.String(b, r.Code)
	opt := func(key, v string) {
		if v != "" {
			b = append(b, key...)
			b = jsonappend.String(b, v)
		}
	}
	opt(`,"condition":`, r.Condition)
	opt(`,"property":`, r.Property)
	opt(`,"value":`, r.Value)
	opt(`,"valueName":`, r.ValueName)
	opt(`,"matched":`, r.Matched)
	if r.Previously {
		b = append(b, `,"previouslySatisfied":true`...)
	}
	b = append(b, `,"text":`...)
	b = jsonappend.String(b, r.Text())
	return append(b, '}')
}

// appendJSON is Graph's collection of rules (enum names: nothing to
// escape).
func (s *RuleSet) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, r := range s.rules[:s.n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"conditionalAccessCondition":"`...)
		b = append(b, conditionNames[r.cond]...)
		b = append(b, `","ruleSatisfied":"`...)
		b = append(b, ruleNames[r.rule]...)
		b = append(b, `"}`...)
	}
	return append(b, ']')
}
