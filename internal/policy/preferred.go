package policy

// systemPreferredOrder is Microsoft's documented system-preferred MFA order
// (Temporary Access Pass, passkey (FIDO2), certificate-based authentication,
// external/federated methods, Microsoft Authenticator notifications, TOTP,
// telephony), expanded to authenticationMethodModes. Modes Microsoft's list
// does not name are slotted where they belong: Windows Hello for Business
// next to passkeys (it is a device-bound passkey), device-based push (phone
// sign-in) just before Authenticator push, hardware OATH before software
// OATH and SMS before voice as in the older, more detailed list, and
// first-factor-only modes last.
var systemPreferredOrder = [...]Mode{
	ModeTemporaryAccessPassOneTime,
	ModeTemporaryAccessPassMultiUse,
	ModeFido2,
	ModeWindowsHelloForBusiness,
	ModeX509CertificateMultiFactor,
	ModeFederatedMultiFactor,
	ModeDeviceBasedPush,
	ModeMicrosoftAuthenticatorPush,
	ModeHardwareOath,
	ModeSoftwareOath,
	ModeSMS,
	ModeVoice,
	ModeX509CertificateSingleFactor,
	ModeFederatedSingleFactor,
	ModeQRCodePin,
	ModeEmail,
	ModePassword,
}

// SystemPreferredOrder returns the order used to pick a method, most
// preferred first.
func SystemPreferredOrder() []Mode { return append([]Mode(nil), systemPreferredOrder[:]...) }

// MethodChoice is the method to prompt for and what else the user could use.
type MethodChoice struct {
	// Method is the authenticationMethodModes name to prompt for, "" when
	// no registered method helps.
	Method string `json:"method"`
	// Alternatives are the other useful registered methods, in
	// system-preferred order ("Sign in another way").
	Alternatives []string `json:"alternatives"`
	// Completes is true when Method alone meets every pending requirement;
	// false means more prompts will follow.
	Completes bool `json:"completes"`
	// RegistrationRequired is true when nothing registered can make progress
	// and the user must register a method first.
	RegistrationRequired bool `json:"registrationRequired,omitempty"`
}

// ChooseSystemPreferredMethod picks the method to prompt for. registered
// is what the user can perform, used what the session already has, and
// pending the unmet requirements, each a list of acceptable combinations.
//
// A candidate that completes every requirement beats one that only makes
// progress on all, which beats one that helps some; ties go to the
// system-preferred order. Security order alone would prompt for a method that
// cannot finish the job, which is worse for the user and no safer.
func ChooseSystemPreferredMethod(registered, used ModeSet, pending [][]ModeSet) MethodChoice {
	reachable := used | registered
	open := make([][]ModeSet, 0, len(pending))
	for _, req := range pending {
		if !anyContained(req, used) {
			open = append(open, req)
		}
	}
	choice := MethodChoice{Alternatives: []string{}}
	if len(open) == 0 {
		return choice
	}
	bestTier := 3
	var best Mode
	for _, m := range systemPreferredOrder {
		if !registered.Has(m) || used.Has(m) {
			continue
		}
		completesAll, progressAll, progressAny := true, true, false
		with := used.With(m)
		for _, req := range open {
			completes, progress := false, false
			for _, c := range req {
				if with.Contains(c) {
					completes = true
				}
				if c.Has(m) && reachable.Contains(c) {
					progress = true
				}
			}
			completesAll = completesAll && completes
			progressAll = progressAll && (progress || completes)
			progressAny = progressAny || progress || completes
		}
		tier := 3
		switch {
		case completesAll:
			tier = 0
		case progressAll:
			tier = 1
		case progressAny:
			tier = 2
		}
		if tier == 3 {
			continue
		}
		choice.Alternatives = append(choice.Alternatives, m.String())
		if tier < bestTier {
			bestTier, best = tier, m
		}
	}
	if best == 0 {
		choice.RegistrationRequired = true
		return choice
	}
	choice.Method = best.String()
	choice.Completes = bestTier == 0
	alts := choice.Alternatives[:0]
	for _, a := range choice.Alternatives {
		if a != choice.Method {
			alts = append(alts, a)
		}
	}
	choice.Alternatives = alts
	return choice
}

// SystemPreferredMethodFor is the string-typed convenience for one
// requirement: registered and satisfied methods by Graph name, and the
// strength's allowedCombinations.
func SystemPreferredMethodFor(registered []string, satisfied []SatisfiedMethod, allowedCombinations []string) (MethodChoice, error) {
	reg, bad, ok := ModesFromStrings(registered)
	if !ok {
		return MethodChoice{}, ValidationErrors{{Code: CodeUnknownEnumValue, Target: "registered", Message: "unknown method \"" + bad + "\""}}
	}
	var combos []ModeSet
	var errs ValidationErrors
	for i, c := range allowedCombinations {
		set, ok := ParseCombination(c)
		if !ok {
			errs.add(CodeUnknownCombination, "allowedCombinations["+itoa(i)+"]", "\""+c+"\" is not a combination")
			continue
		}
		combos = append(combos, set)
	}
	if err := errs.err(); err != nil {
		return MethodChoice{}, err
	}
	f := factsOf(satisfied)
	return ChooseSystemPreferredMethod(reg, f.all, [][]ModeSet{combos}), nil
}

func anyContained(combos []ModeSet, used ModeSet) bool {
	for _, c := range combos {
		if used.Contains(c) {
			return true
		}
	}
	return false
}
