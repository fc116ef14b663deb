package policy

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
