package targeting

import (
	"errors"
	"testing"
)

func TestMatches(t *testing.T) {
	s := Subject{UserID: "U1", GroupIDs: []string{"g1", "G2"}}
	cases := []struct {
		id   string
		typ  Type
		want bool
	}{
		{"all_users", Group, true}, {"ALL_USERS", Group, true},
		{"g2", Group, true}, {"g3", Group, false},
		{"u1", User, true}, {"g1", User, false}, {"U1", Group, false},
	}
	for _, c := range cases {
		if got := Matches(c.id, c.typ, s); got != c.want {
			t.Errorf("Matches(%q, %q) = %v", c.id, c.typ, got)
		}
	}
}

func TestValidationErrorMatchesOnCode(t *testing.T) {
	err := error(Invalid("tooMany", "passkeyProfiles", "at most %d", 10))
	if !errors.Is(err, &ValidationError{Code: "tooMany"}) || errors.Is(err, &ValidationError{Code: "other"}) {
		t.Fatal("errors.Is must compare codes")
	}
	if err.Error() != "tooMany: at most 10 (passkeyProfiles)" {
		t.Fatal(err.Error())
	}
}
