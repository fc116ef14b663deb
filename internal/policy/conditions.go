package policy

import (
	"encoding/json"
	"strings"
)

// Conditions is Graph's conditionalAccessConditions, a flags enum, as the
// beta appliedConditionalAccessPolicy reports it in conditionsSatisfied and
// conditionsNotSatisfied (beta CSDL EnumType conditionalAccessConditions,
// IsFlags: none=0, application=1, users=2, devicePlatform=4, location=8,
// clientType=16, signInRisk=32, userRisk=64, then time, deviceState,
// client, ... which the lab has no condition for). It serialises as Graph
// writes flags: member names in value order, comma-separated, "none" for
// no flag.
//
// The zero value means "not reported" (omitted, as in v1.0 where the
// property does not exist); an evaluation always sets reportedBit, so an
// empty set is written "none".
type Conditions uint16

// The conditions the lab evaluates, with Graph's flag values.
const (
	ConditionApplication    Conditions = 1
	ConditionUsers          Conditions = 2
	ConditionDevicePlatform Conditions = 4
	ConditionLocation       Conditions = 8
	ConditionClientType     Conditions = 16
	ConditionSignInRisk     Conditions = 32
	ConditionUserRisk       Conditions = 64

	conditionsKnown = 127
	reportedBit     = Conditions(1 << 15)
)

var conditionNames = [...]string{"application", "users", "devicePlatform", "location", "clientType", "signInRisk", "userRisk"}

// conditionJSON holds the quoted JSON of every combination, built once, so
// writing a sign-in record formats nothing.
var conditionJSON = func() (t [conditionsKnown + 1][]byte) {
	for m := range t {
		var names []string
		for i, n := range conditionNames {
			if m&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		s := "none"
		if len(names) > 0 {
			s = strings.Join(names, ",")
		}
		t[m], _ = json.Marshal(s)
	}
	return t
}()

// String is Graph's spelling ("none", "application,users").
func (c Conditions) String() string {
	var s string
	_ = json.Unmarshal(conditionJSON[c&conditionsKnown], &s)
	return s
}

// Has reports whether every flag of o is set.
func (c Conditions) Has(o Conditions) bool { return c&o == o }

// MarshalJSON writes the precomputed spelling (no allocation).
func (c Conditions) MarshalJSON() ([]byte, error) { return conditionJSON[c&conditionsKnown], nil }

// UnmarshalJSON reads Graph's spelling back (stored sign-in records).
// Names the lab does not evaluate (time, client, ...) are kept out: the
// lab never writes them.
func (c *Conditions) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*c = reportedBit
	for _, n := range strings.Split(s, ",") {
		for i, known := range conditionNames {
			if strings.TrimSpace(n) == known {
				*c |= 1 << i
			}
		}
	}
	return nil
}

// conditionOf is the flag of a Reason's Condition.
func conditionOf(name string) Conditions {
	switch name {
	case "users":
		return ConditionUsers
	case "application":
		return ConditionApplication
	case "clientType":
		return ConditionClientType
	case "devicePlatform":
		return ConditionDevicePlatform
	case "location":
		return ConditionLocation
	case "userRisk":
		return ConditionUserRisk
	case "signInRisk":
		return ConditionSignInRisk
	}
	return 0
}

// scopeOrder is the order scope checks conditions in: a policy that fails
// one satisfied every configured condition before it.
var scopeOrder = [...]Conditions{ConditionUsers, ConditionApplication, ConditionClientType, ConditionDevicePlatform, ConditionLocation, ConditionUserRisk, ConditionSignInRisk}

// checkedBefore is the conditions scope checks before c.
func checkedBefore(c Conditions) Conditions {
	var before Conditions
	for _, o := range scopeOrder {
		if o == c {
			break
		}
		before |= o
	}
	return before
}

// RuleSatisfied is Graph's (beta) conditionalAccessRuleSatisfied: which
// rule of a condition matched, e.g. {users, groupId}. Rule is a
// conditionalAccessRule value (allApps, appId, acr, allUsers, groupId,
// roleId, userId, allDevicePlatforms, devicePlatform, allLocations,
// allTrustedLocations, locationId, ...).
type RuleSatisfied struct {
	Condition string `json:"conditionalAccessCondition"`
	Rule      string `json:"ruleSatisfied"`
}

// maxRules bounds the rules one policy reports: one include rule each for
// users, application, devicePlatform and location (clientType and the risk
// conditions have no conditionalAccessRule value).
const maxRules = 4

// ruleNames are the conditionalAccessRule values the lab reports, indexed
// by a rule's code; a rule's condition is its conditionName index.
var ruleNames = [...]string{"allApps", "appId", "acr", "allUsers", "userId", "groupId", "roleId",
	"allDevicePlatforms", "devicePlatform", "allLocations", "allTrustedLocations", "locationId"}

// rule is one RuleSatisfied as two small codes, so a RuleSet is a few
// bytes inline in the evaluation.
type rule struct{ cond, rule uint8 }

// RuleSet is includeRulesSatisfied or excludeRulesSatisfied, held inline
// so evaluating a policy allocates nothing. The zero value is "not
// reported" (omitted); an evaluated policy reports [] at least.
type RuleSet struct {
	reported bool
	n        uint8
	rules    [maxRules]rule
}

func (s *RuleSet) add(condition, ruleName string) {
	s.reported = true
	c, r := indexOf(conditionNames[:], condition), indexOf(ruleNames[:], ruleName)
	if c < 0 || r < 0 || int(s.n) == maxRules {
		return // the evaluator passes only known names
	}
	s.rules[s.n] = rule{uint8(c), uint8(r)}
	s.n++
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// Rules lists the rules in the order the evaluator matched them.
func (s RuleSet) Rules() []RuleSatisfied {
	out := make([]RuleSatisfied, s.n)
	for i, r := range s.rules[:s.n] {
		out[i] = RuleSatisfied{Condition: conditionNames[r.cond], Rule: ruleNames[r.rule]}
	}
	return out
}

// IsZero reports a set that was not reported (json omitzero).
func (s RuleSet) IsZero() bool { return !s.reported }

// MarshalJSON writes Graph's collection.
func (s RuleSet) MarshalJSON() ([]byte, error) {
	return s.appendJSON(make([]byte, 0, 2+int(s.n)*72)), nil
}

// UnmarshalJSON reads a stored collection back; values the lab does not
// write are dropped.
func (s *RuleSet) UnmarshalJSON(b []byte) error {
	var rules []RuleSatisfied
	if err := json.Unmarshal(b, &rules); err != nil {
		return err
	}
	*s = RuleSet{reported: true}
	for _, r := range rules {
		s.add(r.Condition, r.Rule)
	}
	return nil
}

// OmitBetaConditions clears the beta-only properties (conditionsSatisfied,
// conditionsNotSatisfied, include/excludeRulesSatisfied), for a v1.0
// answer: v1.0's appliedConditionalAccessPolicy has none of them (v1.0
// CSDL ComplexType appliedConditionalAccessPolicy).
func (a *AppliedConditionalAccessPolicy) OmitBetaConditions() {
	a.ConditionsSatisfied, a.ConditionsNotSatisfied = 0, 0
	a.IncludeRulesSatisfied, a.ExcludeRulesSatisfied = RuleSet{}, RuleSet{}
}
