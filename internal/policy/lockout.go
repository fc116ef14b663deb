package policy

// LockoutInput is what the lockout check needs besides the policy.
type LockoutInput struct {
	// EmergencyAccountUserIDs and EmergencyAccountGroupID identify the
	// break-glass accounts; either is enough to be "excluded".
	EmergencyAccountUserIDs []string
	EmergencyAccountGroupID string
	// Caller is the administrator saving the policy, as they are signed in
	// right now; nil skips the caller check.
	Caller *SignInContext
	// Strengths resolves custom strengths referenced by the policy.
	Strengths StrengthLookup
	// Force saves despite findings, as Entra's "I understand" checkbox does.
	Force bool
}

// CheckLockout refuses a policy that could lock the tenant out: one that
// targets all users without excluding the emergency access accounts, or one
// that would block, or demand something they cannot provide of, the
// administrator saving it. Only an enabled policy can lock anyone out, so
// disabled and report-only policies pass; the check runs again when they are
// switched on. findings is returned even when Force lets the save through so
// the caller can log what was overridden; err is nil when forced.
func CheckLockout(p ConditionalAccessPolicy, in LockoutInput) (findings ValidationErrors, err error) {
	p.CanonicalizeIDs() // a policy stored before ids were canonicalised
	if p.State != StateEnabled || !restricts(p) {
		return nil, nil
	}
	u := p.Conditions.Users
	if contains(u.IncludeUsers, KeywordAll) && (len(in.EmergencyAccountUserIDs) > 0 || in.EmergencyAccountGroupID != "") {
		groupExcluded := in.EmergencyAccountGroupID != "" && contains(u.ExcludeGroups, in.EmergencyAccountGroupID)
		if !groupExcluded {
			var missing []string
			for _, id := range in.EmergencyAccountUserIDs {
				if !contains(u.ExcludeUsers, id) {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 || len(in.EmergencyAccountUserIDs) == 0 {
				target := "conditions.users.excludeUsers"
				msg := "the policy applies to All users but does not exclude emergency access account(s)"
				for i, id := range missing {
					if i == 0 {
						msg += " "
					} else {
						msg += ", "
					}
					msg += id
				}
				if in.EmergencyAccountGroupID != "" {
					target = "conditions.users.excludeGroups"
					msg += "; exclude group " + in.EmergencyAccountGroupID
				}
				findings.add(CodeEmergencyAccountNotExcluded, target, msg)
			}
		}
	}
	if in.Caller != nil {
		cp, cerr := Compile([]ConditionalAccessPolicy{p}, in.Strengths)
		if cerr != nil {
			return nil, cerr
		}
		e := cp.Evaluate(in.Caller)
		a := e.AppliedConditionalAccessPolicies[0]
		if a.Result == ResultFailure && (e.Decision == DecisionBlock || (e.Prompt != nil && e.Prompt.RegistrationRequired)) {
			findings.add(CodeWouldLockOutCaller, "conditions.users", "saving this policy would deny you access: "+a.Explanation.Text())
		}
	}
	if len(findings) == 0 || in.Force {
		return findings, nil
	}
	return findings, findings
}

// restricts reports whether the policy can deny anything. A policy with
// only session controls cannot lock anyone out.
func restricts(p ConditionalAccessPolicy) bool {
	g := p.GrantControls
	return g != nil && (len(g.BuiltInControls) > 0 || g.AuthenticationStrength != nil)
}
