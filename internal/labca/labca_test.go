package labca_test

import (
	"os"
	"testing"

	"github.com/rpserver/rpserver/internal/labca"
)

func TestEnsureMakesOnceThenLoads(t *testing.T) {
	dir := t.TempDir()
	first, certPath, created, err := labca.Ensure(dir)
	if err != nil || !created {
		t.Fatalf("first Ensure: created=%v err=%v", created, err)
	}
	_, keyPath := labca.Paths(dir)
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	again, certPath2, created, err := labca.Ensure(dir)
	if err != nil || created || certPath2 != certPath {
		t.Fatalf("second Ensure: created=%v err=%v", created, err)
	}
	if !again.Root().Equal(first.Root()) {
		t.Fatal("second Ensure made a different CA")
	}
	loaded, err := labca.Load(dir)
	if err != nil || !loaded.Root().Equal(first.Root()) {
		t.Fatalf("Load: %v", err)
	}
}

func TestHalfACAIsAnError(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, err := labca.Ensure(dir); err != nil {
		t.Fatal(err)
	}
	_, keyPath := labca.Paths(dir)
	os.Remove(keyPath)
	if _, _, _, err := labca.Ensure(dir); err == nil {
		t.Fatal("a certificate without its key was accepted (or silently replaced)")
	}
	if _, err := labca.Load(t.TempDir()); err == nil {
		t.Fatal("Load of an empty folder succeeded")
	}
}
