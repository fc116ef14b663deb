package ceremony

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rpserver/rpserver/virtualauthn"
)

// TestUseUnchangedOnlyWhenNothingChanges: a verified use is Unchanged (the
// caller writes only the sign-in's record) exactly when the authenticator
// has no counter, the backup state is the stored one and the stored last
// use is under UseRefresh old and not ahead of this server's clock.
func TestUseUnchangedOnlyWhenNothingChanges(t *testing.T) {
	l := newBenchLab(t) // Microsoft Authenticator (iOS): counter always 0, not backed up
	ms := l.svc.store.(*memStore)
	var stored Credential
	for _, c := range ms.creds {
		stored = c
	}
	ago := func(d time.Duration) *time.Time { at := time.Now().Add(-d); return &at }
	cases := []struct {
		name      string
		edit      func(c *Credential)
		unchanged bool
	}{
		{"never used", func(c *Credential) { c.LastUsedAt = nil }, false},
		{"used 10 s ago", func(c *Credential) { c.LastUsedAt = ago(10 * time.Second) }, true},
		{"used 2 min ago", func(c *Credential) { c.LastUsedAt = ago(2 * time.Minute) }, false},
		{"another backup state", func(c *Credential) { c.LastUsedAt, c.BackupState = ago(10*time.Second), true }, false},
		{"used ahead of this clock", func(c *Credential) { c.LastUsedAt = ago(-30 * time.Second) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := l.svc.ParseAssertion(l.assertions(t, 1)[0])
			if err != nil {
				t.Fatal(err)
			}
			c := stored
			tc.edit(&c)
			_, use, err := l.svc.Verify(a, a.Challenge, &c, UserInfo{ID: c.UserID, Name: l.upn, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			if use.Unchanged != tc.unchanged {
				t.Fatalf("Unchanged = %v, want %v", use.Unchanged, tc.unchanged)
			}
		})
	}
	t.Run("a counter", func(t *testing.T) {
		// A stored counter of 0 and an authenticator that counts: the
		// counter moves, so the use is written (and ordered by the
		// conditional update).
		opts, err := l.svc.BeginLogin(context.Background(), l.upn)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(opts)
		seven := uint32(7)
		resp, err := l.auth.GetTampered(raw, benchOrigin, virtualauthn.Tamper{SignCount: &seven})
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.svc.ParseAssertion(resp)
		if err != nil {
			t.Fatal(err)
		}
		c := stored
		c.LastUsedAt = ago(10 * time.Second)
		_, use, err := l.svc.Verify(a, a.Challenge, &c, UserInfo{ID: c.UserID, Name: l.upn, Enabled: true})
		if err != nil || use.Unchanged || use.SignCount == 0 {
			t.Fatalf("use %+v, %v", use, err)
		}
	})
}
