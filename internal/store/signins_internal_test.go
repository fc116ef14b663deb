package store

import (
	"encoding/json"
	"testing"
)

// A NUL in any string of a record is stored as U+FFFD (jsonb, which the
// impact report parses the stored text into, has no NUL); text that only
// looks like the escape is kept.
func TestWithoutNUL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "a\ufffdb"},
		{"\x00\x00", "\ufffd\ufffd"},
		{`\u0000`, `\u0000`},     // a backslash and "u0000": no NUL
		{"\\\x00", "\\\ufffd"},   // a backslash, then a NUL
		{`\\u0000`, `\\u0000`},   // two backslashes and "u0000"
		{"é\x00\"", "é\ufffd\""}, // next to other escapes and UTF-8
	} {
		doc, err := json.Marshal(map[string]string{"k": c.in})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(withoutNUL(doc), &got); err != nil || got["k"] != c.want {
			t.Errorf("%q: got %q (%s), want %q", c.in, got["k"], withoutNUL(doc), c.want)
		}
	}
}
