package secrethash

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoding %q", h)
	}
	if !Verify(h, "correct horse") {
		t.Fatal("right secret refused")
	}
	for _, wrong := range []string{"correct horse ", "Correct horse", "", "correct hors"} {
		if Verify(h, wrong) {
			t.Fatalf("%q accepted: passwords are compared exactly", wrong)
		}
	}
	if first, second := Hash("x"), Hash("x"); first == second {
		t.Fatal("salt not random")
	}
	if Verify("$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "x") || VerifyDummy("x") {
		t.Fatal("malformed or dummy verified")
	}
	if NeedsRehash(h) || !NeedsRehash("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5") {
		t.Fatal("NeedsRehash wrong")
	}
}

func TestAcquireBoundsConcurrentHashing(t *testing.T) {
	var releases []func()
	for i := 0; i < slots.Capacity(); i++ {
		r, err := Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx); err == nil {
		t.Fatal("a slot was handed out beyond the bound")
	}
	releases[0]()
	r, err := Acquire(context.Background())
	if err != nil {
		t.Fatal("a released slot was not reusable")
	}
	r()
	for _, r := range releases[1:] {
		r()
	}
}
