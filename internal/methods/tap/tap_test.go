package tap

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const (
	alice  = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	admins = "11111111-1111-1111-1111-111111111111"
	temps  = "33333333-3333-3333-3333-333333333333"
)

func enabled() MethodConfiguration {
	p := NewMethodConfiguration()
	p.State = StateEnabled
	return p
}

func wantCode(t *testing.T, err error, code ErrorCode, target string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ve.Code != code || ve.Target != target || ve.Message == "" {
		t.Fatalf("got %s target=%q, want %s target=%q (%s)", ve.Code, ve.Target, code, target, ve.Message)
	}
	if !errors.Is(err, &ValidationError{Code: code}) {
		t.Fatal("errors.Is on code failed")
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(p *MethodConfiguration)
		code   ErrorCode
		target string
	}{
		{"default ok", func(p *MethodConfiguration) {}, "", ""},
		{"widest ok", func(p *MethodConfiguration) {
			p.MinimumLifetimeInMinutes, p.DefaultLifetimeInMinutes, p.MaximumLifetimeInMinutes, p.DefaultLength = 10, 43200, 43200, 48
		}, "", ""},
		{"bad id", func(p *MethodConfiguration) { p.ID = "Fido2" }, CodeInvalidConfigurationID, "id"},
		{"bad state", func(p *MethodConfiguration) { p.State = "" }, CodeInvalidState, "state"},
		{"min below 10", func(p *MethodConfiguration) { p.MinimumLifetimeInMinutes = 9 }, CodeMinimumLifetimeOutOfBounds, "minimumLifetimeInMinutes"},
		{"min above 43200", func(p *MethodConfiguration) { p.MinimumLifetimeInMinutes = 43201 }, CodeMinimumLifetimeOutOfBounds, "minimumLifetimeInMinutes"},
		{"max above 43200", func(p *MethodConfiguration) { p.MaximumLifetimeInMinutes = 43201 }, CodeMaximumLifetimeOutOfBounds, "maximumLifetimeInMinutes"},
		{"max below 10", func(p *MethodConfiguration) { p.MaximumLifetimeInMinutes = 5 }, CodeMaximumLifetimeOutOfBounds, "maximumLifetimeInMinutes"},
		{"min > max", func(p *MethodConfiguration) { p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes = 600, 480 }, CodeMinimumExceedsMaximum, "minimumLifetimeInMinutes"},
		{"default < min", func(p *MethodConfiguration) { p.DefaultLifetimeInMinutes = 30 }, CodeDefaultLifetimeOutOfRange, "defaultLifetimeInMinutes"},
		{"default > max", func(p *MethodConfiguration) { p.DefaultLifetimeInMinutes = 481 }, CodeDefaultLifetimeOutOfRange, "defaultLifetimeInMinutes"},
		{"length 7", func(p *MethodConfiguration) { p.DefaultLength = 7 }, CodeLengthOutOfBounds, "defaultLength"},
		{"length 49", func(p *MethodConfiguration) { p.DefaultLength = 49 }, CodeLengthOutOfBounds, "defaultLength"},
		{"include bad type", func(p *MethodConfiguration) { p.IncludeTargets[0].TargetType = "role" }, CodeInvalidTargetType, "includeTargets[0].targetType"},
		{"include empty id", func(p *MethodConfiguration) { p.IncludeTargets[0].ID = " " }, CodeInvalidTargetID, "includeTargets[0].id"},
		{"exclude bad type", func(p *MethodConfiguration) { p.ExcludeTargets = []ExcludeTarget{{ID: temps}} }, CodeInvalidTargetType, "excludeTargets[0].targetType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewMethodConfiguration()
			tc.edit(&p)
			err := p.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.code, tc.target)
		})
	}
}

func TestEnabledFor(t *testing.T) {
	groupOnly := enabled()
	groupOnly.IncludeTargets = []AuthenticationMethodTarget{{ID: admins, TargetType: TargetTypeGroup}}
	userOnly := enabled()
	userOnly.IncludeTargets = []AuthenticationMethodTarget{{ID: alice, TargetType: TargetTypeUser}}
	excl := enabled()
	excl.ExcludeTargets = []ExcludeTarget{{ID: temps, TargetType: TargetTypeGroup}}
	tests := []struct {
		name string
		p    MethodConfiguration
		s    Subject
		want bool
	}{
		{"disabled", NewMethodConfiguration(), Subject{UserID: alice}, false},
		{"all users", enabled(), Subject{UserID: alice}, true},
		{"group hit", groupOnly, Subject{UserID: alice, GroupIDs: []string{strings.ToUpper(admins)}}, true},
		{"group miss", groupOnly, Subject{UserID: alice, GroupIDs: []string{temps}}, false},
		{"user target", userOnly, Subject{UserID: alice}, true},
		{"excluded", excl, Subject{UserID: alice, GroupIDs: []string{temps}}, false},
	}
	for _, tc := range tests {
		if got := tc.p.EnabledFor(tc.s); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestResolve(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 500, time.UTC)
	sec := now.Truncate(time.Second)
	oneTime := enabled()
	oneTime.IsUsableOnce = true
	excl := enabled()
	excl.ExcludeTargets = []ExcludeTarget{{ID: alice, TargetType: TargetTypeUser}}
	ip := func(v int) *int { return &v }
	bp := func(v bool) *bool { return &v }
	tp := func(v time.Time) *time.Time { return &v }
	s := Subject{UserID: alice}

	tests := []struct {
		name   string
		p      MethodConfiguration
		req    CreateRequest
		want   Resolved
		code   ErrorCode
		target string
	}{
		{"defaults", enabled(), CreateRequest{}, Resolved{sec, 60, false, 8}, "", ""},
		{"explicit", enabled(), CreateRequest{LifetimeInMinutes: ip(480), IsUsableOnce: bp(true), StartDateTime: tp(sec.Add(time.Hour))},
			Resolved{sec.Add(time.Hour), 480, true, 8}, "", ""},
		{"policy forces one-time", oneTime, CreateRequest{IsUsableOnce: bp(false)}, Resolved{sec, 60, true, 8}, "", ""},
		{"slightly past start kept", enabled(), CreateRequest{StartDateTime: tp(sec.Add(-4 * time.Minute))}, Resolved{sec.Add(-4 * time.Minute), 60, false, 8}, "", ""},
		{"non-UTC start normalised", enabled(), CreateRequest{StartDateTime: tp(sec.In(time.FixedZone("x", 3600)))}, Resolved{sec, 60, false, 8}, "", ""},
		{"disabled", NewMethodConfiguration(), CreateRequest{}, Resolved{}, CodeMethodDisabled, ""},
		{"excluded", excl, CreateRequest{}, Resolved{}, CodeMethodNotEnabledForUser, ""},
		{"lifetime below min", enabled(), CreateRequest{LifetimeInMinutes: ip(59)}, Resolved{}, CodeLifetimeOutOfRange, "lifetimeInMinutes"},
		{"lifetime above max", enabled(), CreateRequest{LifetimeInMinutes: ip(481)}, Resolved{}, CodeLifetimeOutOfRange, "lifetimeInMinutes"},
		{"start in past", enabled(), CreateRequest{StartDateTime: tp(sec.Add(-6 * time.Minute))}, Resolved{}, CodeStartDateTimeInPast, "startDateTime"},
		{"start too far", enabled(), CreateRequest{StartDateTime: tp(sec.Add(481 * time.Minute))}, Resolved{}, CodeStartDateTimeTooFar, "startDateTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Resolve(s, tc.req, now)
			if tc.code != "" {
				wantCode(t, err, tc.code, tc.target)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.StartDateTime.Equal(tc.want.StartDateTime) || got.StartDateTime.Location() != time.UTC {
				t.Fatalf("start %v, want %v UTC", got.StartDateTime, tc.want.StartDateTime)
			}
			got.StartDateTime, tc.want.StartDateTime = time.Time{}, time.Time{}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGenerateLengthAlphabetAndUniqueness(t *testing.T) {
	if len(Alphabet) != 64 {
		t.Fatalf("alphabet has %d characters", len(Alphabet))
	}
	for _, c := range "0O1lIio @\"'`\\/<> " {
		if strings.ContainsRune(Alphabet, c) {
			t.Fatalf("alphabet contains ambiguous %q", c)
		}
	}
	seen := map[string]bool{}
	counts := map[rune]int{}
	for _, n := range []int{MinLength, 12, MaxLength} {
		for range 3000 {
			s, err := Generate(n)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != n {
				t.Fatalf("length %d, want %d", len(s), n)
			}
			for _, c := range s {
				if !strings.ContainsRune(Alphabet, c) {
					t.Fatalf("%q outside alphabet", c)
				}
				counts[c]++
			}
			if seen[s] {
				t.Fatalf("repeat: %s", s)
			}
			seen[s] = true
		}
	}
	// Every character should turn up; with ~204k draws each expects ~3200.
	for _, c := range Alphabet {
		if counts[c] < 2500 {
			t.Fatalf("character %q drawn only %d times", c, counts[c])
		}
	}
	for _, n := range []int{0, MinLength - 1, MaxLength + 1} {
		_, err := Generate(n)
		wantCode(t, err, CodeLengthOutOfBounds, "length")
	}
}

func TestDrawRejectsBiasedBytes(t *testing.T) {
	// With a 10-symbol alphabet, bytes 250..255 would over-represent 0..5
	// under a plain modulo; they must be skipped.
	src := []byte{250, 251, 255, 9, 249, 10, 0, 253, 19, 5, 7, 3, 1, 2}
	s, err := draw(bytes.NewReader(append(src, make([]byte, 32)...)), 8, "0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if s != "99009573" {
		t.Fatalf("got %q", s)
	}
	// The real alphabet (64) needs no rejection: byte b maps to Alphabet[b%64].
	s, err = generate(bytes.NewReader(bytes.Repeat([]byte{0, 63, 64, 255}, 8)), 8)
	if err != nil {
		t.Fatal(err)
	}
	a, z := Alphabet[0], Alphabet[63]
	if s != string([]byte{a, z, a, z, a, z, a, z}) {
		t.Fatalf("got %q", s)
	}
	if _, err := generate(iotest.ErrReader(errors.New("no entropy")), 8); err == nil {
		t.Fatal("want error from failing reader")
	}
}

func TestHashVerify(t *testing.T) {
	h := Hash("Qu%6n$Aa")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected encoding %s", h)
	}
	if strings.Contains(h, "Qu%6n$Aa") {
		t.Fatal("hash contains the secret")
	}
	h2 := Hash("Qu%6n$Aa")
	if h == h2 {
		t.Fatal("same hash twice: salt not random")
	}
	parts := strings.Split(h, "$")
	tests := []struct {
		name    string
		encoded string
		secret  string
		want    bool
	}{
		{"match", h, "Qu%6n$Aa", true},
		{"match with whitespace", h, " Qu%6n$Aa\n", true},
		{"other salt matches too", h2, "Qu%6n$Aa", true},
		{"wrong", h, "Qu%6n$Ab", false},
		{"case matters", h, "qu%6n$aa", false},
		{"empty", h, "", false},
		{"garbage", "plain", "Qu%6n$Aa", false},
		{"wrong algorithm", strings.Replace(h, "argon2id", "argon2i", 1), "Qu%6n$Aa", false},
		{"wrong version", strings.Replace(h, "v=19", "v=16", 1), "Qu%6n$Aa", false},
		{"huge memory refused", strings.Replace(h, "m=19456", "m=4194304", 1), "Qu%6n$Aa", false},
		{"bad params", strings.Replace(h, "t=2", "t=x", 1), "Qu%6n$Aa", false},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"), "Qu%6n$Aa", false},
		{"bad key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AA"}, "$"), "Qu%6n$Aa", false},
	}
	for _, tc := range tests {
		if got := Verify(tc.encoded, tc.secret); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
	if VerifyDummy("Qu%6n$Aa") {
		t.Fatal("dummy verify returned true")
	}
	if NeedsRehash(h) {
		t.Fatal("fresh hash needs rehash")
	}
	if !NeedsRehash(strings.Replace(h, "t=2", "t=1", 1)) || !NeedsRehash("junk") {
		t.Fatal("weak or junk hash should need rehash")
	}
}

func TestUsability(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	used := start.Add(time.Minute)
	rec := Record{StartDateTime: start, LifetimeInMinutes: 60}
	once := rec
	once.IsUsableOnce = true
	onceUsed := once
	onceUsed.LastUsedDateTime = &used
	reusedOK := rec
	reusedOK.LastUsedDateTime = &used
	s := Subject{UserID: alice}

	tests := []struct {
		name   string
		r      Record
		p      MethodConfiguration
		now    time.Time
		usable bool
		reason MethodUsabilityReason
	}{
		{"usable", rec, enabled(), start.Add(30 * time.Minute), true, ReasonEnabledByPolicy},
		{"at start", rec, enabled(), start, true, ReasonEnabledByPolicy},
		{"not yet valid", rec, enabled(), start.Add(-time.Second), false, ReasonNotYetValid},
		{"expired at the boundary", rec, enabled(), start.Add(time.Hour), false, ReasonExpired},
		{"last valid instant", rec, enabled(), start.Add(time.Hour - time.Nanosecond), true, ReasonEnabledByPolicy},
		{"policy disabled", rec, NewMethodConfiguration(), start.Add(time.Minute), false, ReasonDisabledByPolicy},
		{"one-time unused", once, enabled(), start.Add(time.Minute), true, ReasonEnabledByPolicy},
		{"one-time used", onceUsed, enabled(), start.Add(2 * time.Minute), false, ReasonOneTimeUsed},
		{"used beats expired", onceUsed, enabled(), start.Add(2 * time.Hour), false, ReasonOneTimeUsed},
		{"disabled beats used", onceUsed, NewMethodConfiguration(), start.Add(2 * time.Minute), false, ReasonDisabledByPolicy},
		{"reusable after use", reusedOK, enabled(), start.Add(2 * time.Minute), true, ReasonEnabledByPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := tc.r.Usability(tc.p, s, tc.now)
			if ok != tc.usable || reason != tc.reason {
				t.Fatalf("got %v %s", ok, reason)
			}
			g := tc.r.ToGraph(tc.p, s, tc.now)
			if g.IsUsable != ok || g.MethodUsabilityReason != reason || g.TemporaryAccessPass != nil {
				t.Fatalf("graph view %+v", g)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	p := enabled()
	p.DefaultLength = 16
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec, out, err := Issue(p, Subject{UserID: alice}, CreateRequest{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if out.TemporaryAccessPass == nil || len(*out.TemporaryAccessPass) != 16 {
		t.Fatalf("create response %+v", out)
	}
	if !Verify(rec.SecretHash, *out.TemporaryAccessPass) {
		t.Fatal("stored hash does not verify the issued pass")
	}
	if rec.UserID != alice || rec.ID != out.ID || !out.IsUsable || out.MethodUsabilityReason != ReasonEnabledByPolicy || !rec.ExpiresAt().Equal(now.Add(time.Hour)) {
		t.Fatalf("record %+v out %+v", rec, out)
	}
	b, _ := json.Marshal(rec)
	if bytes.Contains(b, []byte(*out.TemporaryAccessPass)) {
		t.Fatal("record JSON contains the pass")
	}
	read := rec.ToGraph(p, Subject{UserID: alice}, now)
	rb, _ := json.Marshal(read)
	if !bytes.Contains(rb, []byte(`"temporaryAccessPass":null`)) {
		t.Fatalf("read view must show temporaryAccessPass null: %s", rb)
	}
	if _, _, err := Issue(NewMethodConfiguration(), Subject{UserID: alice}, CreateRequest{}, now); err == nil {
		t.Fatal("issued under a disabled policy")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	used := time.Date(2026, 5, 1, 12, 1, 0, 0, time.UTC)
	pass := "Qu%6n$Aa"
	lt := 120
	values := []any{
		ptr(NewMethodConfiguration()),
		&Record{ID: "x", UserID: alice, SecretHash: "$argon2id$...", CreatedDateTime: used, StartDateTime: used, LifetimeInMinutes: 60, IsUsableOnce: true, LastUsedDateTime: &used},
		&TemporaryAccessPassAuthenticationMethod{ODataType: ODataTypeMethod, ID: "x", TemporaryAccessPass: &pass, CreatedDateTime: used, StartDateTime: used,
			LifetimeInMinutes: 60, IsUsable: true, MethodUsabilityReason: ReasonEnabledByPolicy},
		&CreateRequest{StartDateTime: &used, LifetimeInMinutes: &lt},
		&ValidationError{Code: CodeLifetimeOutOfRange, Message: "m", Target: "lifetimeInMinutes"},
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("%T did not round-trip:\n%s", v, b)
		}
	}
	// Graph's documented property names decode into the policy.
	const graph = `{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","id":"TemporaryAccessPass",
"state":"enabled","defaultLifetimeInMinutes":60,"defaultLength":8,"minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480,
"isUsableOnce":false,"includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false}],"excludeTargets":[]}`
	dec := json.NewDecoder(strings.NewReader(graph))
	dec.DisallowUnknownFields()
	var p MethodConfiguration
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil || !p.EnabledFor(Subject{UserID: alice}) {
		t.Fatalf("%v %+v", err, p)
	}
}

func ptr[T any](v T) *T { return &v }
