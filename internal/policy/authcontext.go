package policy

import "time"

// validAuthContextID accepts Entra's authentication context ids, c1 to c99.
func validAuthContextID(id string) bool {
	if len(id) < 2 || len(id) > 3 || id[0] != 'c' || id[1] == '0' {
		return false
	}
	for _, r := range id[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ValidAuthContextID reports whether id is an authentication context id
// (c1..c99).
func ValidAuthContextID(id string) bool { return validAuthContextID(id) }

func anyOf(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}

// frequencyAge is a timeBased signInFrequency as a duration (0: none).
func frequencyAge(f *SignInFrequencySessionControl) time.Duration {
	if f.FrequencyInterval == "everyTime" || f.Value == nil || *f.Value <= 0 {
		return 0
	}
	switch f.Type {
	case "hours":
		return time.Duration(*f.Value) * time.Hour
	case "days":
		return time.Duration(*f.Value) * 24 * time.Hour
	}
	return 0
}

// withinAge drops previously satisfied methods older than maxAge: a
// timeBased signInFrequency makes the user prove them again.
func withinAge(f *methodFacts, maxAge time.Duration) *methodFacts {
	kept := make([]SatisfiedMethod, 0, len(f.methods))
	for _, m := range f.methods {
		if m.PreviouslySatisfied && m.Age > maxAge {
			continue
		}
		kept = append(kept, m)
	}
	if len(kept) == len(f.methods) {
		return f
	}
	g := factsOf(kept)
	return &g
}
