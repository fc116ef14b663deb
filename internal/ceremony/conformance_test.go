package ceremony_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/attestation/conformance"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/methods"
)

// TestAttestationConformance judges every published registration response
// of the conformance suite through the server's registration path
// (JudgeRegistration: the checks of FinishRegistration, storage aside), at
// the time each was captured, in every case the suite lists.
func TestAttestationConformance(t *testing.T) {
	vectors, err := conformance.Load()
	if err != nil {
		t.Fatal(err)
	}
	perFormat := map[string]int{}
	for _, v := range vectors {
		perFormat[v.Format]++
		for _, c := range v.Cases {
			t.Run(v.File+"/"+c.Name, func(t *testing.T) {
				got, err := JudgeVectorCase(v, c)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.Expect {
					t.Errorf("%s\n got  %+v\n want %+v", c.Why, got, c.Expect)
				}
			})
		}
	}
	t.Logf("vectors per format: %v", perFormat)
}

// JudgeVectorCase is the server's verdict on one case.
func JudgeVectorCase(v conformance.Vector, c conformance.Case) (conformance.Expect, error) {
	var got conformance.Expect
	trust, err := c.Trust()
	if err != nil {
		return got, err
	}
	at, err := v.When(c)
	if err != nil {
		return got, err
	}
	body, err := v.Response(c)
	if err != nil {
		return got, err
	}
	challenge, err := v.Challenge()
	if err != nil {
		return got, err
	}
	svc, err := ceremony.New(ceremony.Config{RPID: v.RPID, Origins: []string{v.Origin}, Trust: trust}, nil, nil, nil)
	if err != nil {
		return got, err
	}
	reg, err := svc.JudgeRegistration(context.Background(), body, ceremony.Judgement{
		Challenge: challenge,
		User:      ceremony.UserInfo{ID: "6f9619ff-8b86-4011-b42d-00c04fc964ff", Name: "conformance@lab.example", Enabled: true},
		At:        at,
		RequireUV: c.RequireUV,
		Gate:      methods.OneProfileGate(c.Attestation == "required"),
	})
	return Verdict(reg.Attestation, err)
}

// Verdict reduces a registration outcome to what the suite compares.
func Verdict(r attestation.Result, err error) (conformance.Expect, error) {
	got := conformance.Expect{AttestationReason: r.Reason}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return got, fmt.Errorf("unclassified error: %w", err)
		}
		got.Code = e.Code
		return got, nil
	}
	got.Accepted, got.AttestationType, got.Trusted = true, r.AttestationType, r.Trusted
	return got, nil
}
