package ratelimit

import (
	"testing"
	"time"
)

func TestBlocksAfterMaxFailuresUntilWindowEnds(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(3, time.Minute)
	l.Now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if b, _ := l.Blocked("ip"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("ip")
	}
	if b, until := l.Blocked("ip"); !b || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("not blocked after 3 failures (until %v)", until)
	}
	if b, _ := l.Blocked("other"); b {
		t.Fatal("keys must be independent")
	}
	now = now.Add(time.Minute)
	if b, _ := l.Blocked("ip"); b {
		t.Fatal("still blocked after the window")
	}
	if b, _ := New(0, time.Minute).Blocked("x"); b {
		t.Fatal("disabled limiter blocked")
	}
}
