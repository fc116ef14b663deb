package ceremony

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/rpserver/rpserver/virtualauthn"
)

const benchOrigin = "http://localhost:8080"

// benchLab is a service on the in-memory store with one user holding one
// registered Microsoft Authenticator passkey.
type benchLab struct {
	svc  *Service
	auth *virtualauthn.Authenticator
	upn  string
}

func newBenchLab(tb testing.TB) *benchLab { return newBenchLabAlg(tb, virtualauthn.AlgES256) }

// newBenchLabAlg is newBenchLab with a passkey of COSE algorithm alg; the
// service offers its default list and the authenticator supports only alg.
func newBenchLabAlg(tb testing.TB, alg int) *benchLab {
	tb.Helper()
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := virtualauthn.MicrosoftAuthenticatorIOS(ca)
	cfg.Algorithms = []int{alg}
	return newBenchLabWith(tb, cfg)
}

// newBenchLabWith is newBenchLab with the authenticator cfg describes.
func newBenchLabWith(tb testing.TB, cfg virtualauthn.Config) *benchLab {
	tb.Helper()
	users := memUsers{"6f9619ff-8b86-4011-b42d-00c04fc964ff": {ID: "6f9619ff-8b86-4011-b42d-00c04fc964ff", Name: "admin1@lab.example", DisplayName: "Admin", Enabled: true}}
	ms := newMemStore()
	ms.users = users
	svc, err := New(Config{RPID: "localhost", RPDisplayName: "lab", Origins: []string{benchOrigin}}, ms, users, nil)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := virtualauthn.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	creation, err := svc.BeginRegistration(ctx, "6f9619ff-8b86-4011-b42d-00c04fc964ff", RegistrationOptions{DisplayName: "phone"})
	if err != nil {
		tb.Fatal(err)
	}
	opts, _ := json.Marshal(creation)
	resp, err := a.Create(opts, benchOrigin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.FinishRegistration(ctx, "6f9619ff-8b86-4011-b42d-00c04fc964ff", resp); err != nil {
		tb.Fatal(err)
	}
	return &benchLab{svc: svc, auth: a, upn: "admin1@lab.example"}
}

// assertions pre-computes n sign-in responses, each for its own challenge,
// so the timed loop measures the server side only.
func (l *benchLab) assertions(tb testing.TB, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		opts, err := l.svc.BeginLogin(context.Background(), l.upn)
		if err != nil {
			tb.Fatal(err)
		}
		raw, _ := json.Marshal(opts)
		if out[i], err = l.auth.Get(raw, benchOrigin); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func TestFinishLoginOnMemStore(t *testing.T) {
	for _, alg := range benchAlgs {
		t.Run(alg.name, func(t *testing.T) {
			l := newBenchLabAlg(t, alg.cose)
			for _, a := range l.assertions(t, 3) {
				if _, err := l.svc.FinishLogin(context.Background(), a); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

var benchAlgs = []struct {
	name string
	cose int
}{{"ES256", virtualauthn.AlgES256}, {"EdDSA", virtualauthn.AlgEdDSA}, {"RS256", virtualauthn.AlgRS256}}

// cpuMeter reports the process's CPU time per operation (user+system,
// from getrusage) as cpu-ns/op: on a shared machine wall time includes
// waiting for the CPU, CPU time does not, so ratios of it are steadier.
type cpuMeter struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) *cpuMeter { b.ResetTimer(); return &cpuMeter{start: cpuNow()} }

func (m *cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	b.ReportMetric(float64(cpuNow()-m.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBareVerify is the ceiling per algorithm: one signature check over
// authenticatorData||SHA-256(clientDataJSON) with the key already parsed,
// the only unavoidable cryptographic work of a sign-in.
func BenchmarkBareVerify(b *testing.B) {
	msg := make([]byte, 37+32)
	digest := sha256.Sum256(msg)
	b.Run("ES256", func(b *testing.B) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
		b.ReportAllocs()
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			d := sha256.Sum256(msg)
			if !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
				b.Fatal("verify failed")
			}
		}
		cpu.stop(b)
	})
	b.Run("EdDSA", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		sig := ed25519.Sign(priv, msg)
		b.ReportAllocs()
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify failed")
			}
		}
		cpu.stop(b)
	})
	b.Run("RS256", func(b *testing.B) {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		b.ReportAllocs()
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			d := sha256.Sum256(msg)
			if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, d[:], sig) != nil {
				b.Fatal("verify failed")
			}
		}
		cpu.stop(b)
	})
}

// BenchmarkFinishLoginAlg is BenchmarkFinishLoginCore per credential
// algorithm, to set next to BenchmarkBareVerify of the same run.
func BenchmarkFinishLoginAlg(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.name, func(b *testing.B) {
			l := newBenchLabAlg(b, alg.cose)
			in := l.assertions(b, b.N)
			ctx := context.Background()
			b.ReportAllocs()
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				if _, err := l.svc.FinishLogin(ctx, in[i]); err != nil {
					b.Fatal(err)
				}
			}
			cpu.stop(b)
		})
	}
}

// BenchmarkECDSAVerifyASN1 is the ceiling: one bare P-256 verification of a
// precomputed digest, the only unavoidable cryptographic work of a sign-in.
func BenchmarkECDSAVerifyASN1(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("authenticatorData||sha256(clientDataJSON)"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkFinishLoginCore is the whole server-side verification of a sign-in
// with the storage in memory: parse the browser's JSON, take the challenge,
// decode the session, load the credential and user, our checks, the
// library's verification (COSE key parse + ECDSA), the counter update.
func BenchmarkFinishLoginCore(b *testing.B) {
	l := newBenchLab(b)
	in := l.assertions(b, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.svc.FinishLogin(ctx, in[i]); err != nil {
			b.Fatal(err)
		}
	}
}
