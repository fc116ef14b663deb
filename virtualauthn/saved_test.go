package virtualauthn_test

import (
	"testing"

	"github.com/rpserver/rpserver/virtualauthn"
)

// TestExportImportKeepsCounter: a YubiKey's counter survives a save and
// load, and a second import of the same credential is refused.
func TestExportImportKeepsCounter(t *testing.T) {
	ca, _ := virtualauthn.NewTestCA()
	cfg := virtualauthn.YubiKey5(ca)
	cfg.ResidentKey = true
	a, _ := virtualauthn.New(cfg)
	opts := []byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"localhost","name":"lab"},
		"user":{"id":"dXNlcg","name":"u","displayName":"u"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]}}`)
	if _, err := a.Create(opts, "http://localhost"); err != nil {
		t.Fatal(err)
	}
	get := []byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rpId":"localhost"}}`)
	for range 3 {
		if _, err := a.Get(get, "http://localhost"); err != nil {
			t.Fatal(err)
		}
	}
	saved, err := a.Export()
	if err != nil || len(saved) != 1 || saved[0].SignCount < 3 {
		t.Fatalf("export %+v %v", saved, err)
	}
	b, _ := virtualauthn.New(cfg)
	if err := b.Import(saved...); err != nil {
		t.Fatal(err)
	}
	again, _ := b.Export()
	if again[0].SignCount != saved[0].SignCount || string(again[0].ID) != string(saved[0].ID) {
		t.Fatalf("after import %+v, want %+v", again[0], saved[0])
	}
	if err := b.Import(saved...); err == nil {
		t.Fatal("importing the same credential twice was accepted")
	}
}
