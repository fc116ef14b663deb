package jsonappend

import (
	"encoding/json"
	"testing"
	"time"
)

func same(t *testing.T, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("got %s, encoding/json %s", got, want)
	}
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "<b>&", "tab\t", "é", "\xff", "\u2028", "\x00"} {
		same(t, String(nil, s), s)
		same(t, Strings(nil, []string{s, s}), []string{s, s})
	}
	same(t, Strings(nil, nil), []string(nil))
	same(t, Strings(nil, []string{}), []string{})
	same(t, Bool(nil, true), true)
	same(t, Int(nil, -42), -42)
	east := time.FixedZone("east", 5*3600+30*60)
	for _, tm := range []time.Time{{}, time.Date(2026, 12, 1, 20, 25, 7, 633472000, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 20, 25, 7, 1, east), time.Now(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 30))} {
		got, err := Time(nil, tm)
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, tm)
	}
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := Time(nil, tm); err == nil {
			t.Fatalf("%v: no error", tm)
		} else if _, want := json.Marshal(tm); want == nil {
			t.Fatalf("%v: encoding/json encodes it", tm)
		}
	}
	for _, raw := range []string{`{"a":1}`, `{ "a" : [1, 2] }`, `"<&>"`, `"é"`} {
		got := Compact(nil, []byte(raw))
		same(t, got, json.RawMessage(raw))
	}
}

func FuzzString(f *testing.F) {
	f.Add("plain")
	f.Add("<\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		same(t, String(nil, s), s)
	})
}
