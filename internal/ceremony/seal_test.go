package ceremony

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

func TestChallengeSealRoundTripAndTamper(t *testing.T) {
	s := newChallengeSealer(bytes.Repeat([]byte{7}, 32))
	exp := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	const user = "6f9619ff-8b86-4011-b42d-00c04fc964ff"
	for _, uid := range []string{user, ""} {
		b, err := s.seal(exp, -42, uid)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != sealLen {
			t.Fatalf("sealed %d bytes, want %d for every begin (bound or not)", len(b), sealLen)
		}
		c, ok := s.open(base64.RawURLEncoding.EncodeToString(b))
		if !ok || !c.expiresAt.Equal(exp) || c.epoch != -42 || c.userID != uid || len(c.nonce) != sealNonce {
			t.Fatalf("opened %+v %v", c, ok)
		}
		for i := range b {
			bad := bytes.Clone(b)
			bad[i] ^= 0x01
			if _, ok := s.open(base64.RawURLEncoding.EncodeToString(bad)); ok {
				t.Fatalf("a challenge with byte %d changed was accepted", i)
			}
		}
		other := newChallengeSealer(bytes.Repeat([]byte{8}, 32))
		if _, ok := other.open(base64.RawURLEncoding.EncodeToString(b)); ok {
			t.Fatal("another key accepted the challenge")
		}
	}
	// The user is not readable from the challenge.
	b, _ := s.seal(exp, 1, user)
	if bytes.Contains(b, []byte{0x6f, 0x96, 0x19, 0xff}) {
		t.Fatal("the user id is readable in the sealed challenge")
	}
	for _, junk := range []string{"", "AAAA", base64.RawURLEncoding.EncodeToString(make([]byte, sealLen)), "!" + base64.RawURLEncoding.EncodeToString(b)[1:]} {
		if _, ok := s.open(junk); ok {
			t.Fatalf("%q opened", junk)
		}
	}
}

func TestSignInChallengeIsSingleUseAndDiesWithItsEpoch(t *testing.T) {
	ctx := context.Background()
	l := newBenchLab(t)
	ms := l.svc.store.(*memStore)
	code := func(err error) string {
		e, _ := apperr.As(err)
		if e == nil {
			return ""
		}
		return e.Code
	}

	a := l.assertions(t, 1)[0]
	if _, err := l.svc.FinishLogin(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.FinishLogin(ctx, a); code(err) != CodeChallengeNotFound {
		t.Fatalf("replay: %v, want %s", err, CodeChallengeNotFound)
	}

	// A crash or failover empties the epoch: what was sealed before is refused.
	a = l.assertions(t, 1)[0]
	ms.mu.Lock()
	ms.epoch++
	ms.used = map[string]bool{}
	ms.mu.Unlock()
	if _, err := l.svc.FinishLogin(ctx, a); code(err) != CodeChallengeNotFound {
		t.Fatalf("challenge of a lost epoch: %v, want %s", err, CodeChallengeNotFound)
	}

	// Expired: refused before any I/O.
	a = l.assertions(t, 1)[0]
	l.svc.Now = func() time.Time { return time.Now().Add(6 * time.Minute) }
	if _, err := l.svc.ParseAssertion(a); code(err) != CodeChallengeExpired {
		t.Fatalf("expired: %v, want %s", err, CodeChallengeExpired)
	}
	l.svc.Now = time.Now

	// Sealed by a server whose clock is hours ahead: refused, or it would
	// live for hours.
	l.svc.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	a = l.assertions(t, 1)[0]
	l.svc.Now = time.Now
	if _, err := l.svc.ParseAssertion(a); code(err) != CodeChallengeNotFound {
		t.Fatalf("far-future expiry: %v, want %s", err, CodeChallengeNotFound)
	}

	// A challenge begun for a user binds it; a discoverable begin does not,
	// and the two look alike.
	bound, err := l.svc.BeginLogin(ctx, l.upn)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := l.svc.BeginLogin(ctx, "ghost@lab.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(bound.Response.Challenge) != len(anon.Response.Challenge) {
		t.Fatal("a bound and a discoverable challenge differ in length")
	}
	raw, _ := json.Marshal(bound)
	resp, err := l.auth.Get(raw, benchOrigin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.svc.ParseAssertion(resp)
	if err != nil || p.Challenge.UserID != "6f9619ff-8b86-4011-b42d-00c04fc964ff" || p.Challenge.Epoch != 2 {
		t.Fatalf("bound challenge: %+v %v", p, err)
	}
}
