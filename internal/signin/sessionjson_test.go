package signin

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/jsonappend/jsontest"
	"github.com/rpserver/rpserver/internal/policy"
)

func TestSessionJSONMatchesMarshal(t *testing.T) {
	// A field added to one of these types must be added to appendJSON too.
	for typ, fields := range map[reflect.Type]int{reflect.TypeFor[sessionData](): 4, reflect.TypeFor[Step](): 5} {
		if n := typ.NumField(); n != fields {
			t.Errorf("%s has %d fields; appendJSON writes %d: update it (and this count)", typ, n, fields)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	src := jsontest.Source{R: r, Extra: []string{"cbf9e6b2-0000-4000-8000-000000000001"}}
	str, strs := src.String, src.Strings
	zones := []*time.Location{time.UTC, time.FixedZone("", -5*3600-30*60), time.Local}
	for range 5000 {
		sd := sessionData{App: str(), Action: str(), Contexts: strs()}
		if r.IntN(4) > 0 {
			sd.Steps = []Step{}
			for range r.IntN(3) {
				var at time.Time
				if r.IntN(5) > 0 {
					at = time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
				}
				sd.Steps = append(sd.Steps, Step{Mode: policy.Mode(1) << r.IntN(8), AAGUID: str(), Detail: str(), At: at, Previous: r.IntN(2) == 0})
			}
		}
		want, err := json.Marshal(sd)
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionJSON(sd); !bytes.Equal(got, want) {
			t.Fatalf("%+v:\n got %s\nwant %s", sd, got, want)
		}
		if got, ok := sd.appendJSON(nil); !ok || !bytes.Equal(got, want) {
			t.Fatalf("%+v: the fast path did not write it (ok %v): %s", sd, ok, got)
		}
	}
	// What the fast path cannot write goes to encoding/json, which refuses it as before.
	defer func() {
		if recover() == nil {
			t.Fatal("a step with no mode name was encoded")
		}
	}()
	sessionJSON(sessionData{Steps: []Step{{Mode: 3}}})
}

func BenchmarkSessionJSON(b *testing.B) {
	sd := sessionData{App: DefaultApplicationID, Steps: []Step{
		{Mode: policy.ModeFido2, AAGUID: "cbf9e6b2-0000-4000-8000-000000000001", Detail: "Microsoft Authenticator (iOS)", At: time.Now()},
		{Mode: policy.ModeTemporaryAccessPassOneTime, At: time.Now(), Previous: true},
	}}
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			sessionJSON(sd)
		}
	})
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			mustJSON(sd)
		}
	})
}
