package signinlog

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/jsonappend/jsontest"
	"github.com/rpserver/rpserver/internal/policy"
)

// recordPolicy is an applied policy as a sign-in record holds it (the
// bench's "MFA for everyone"), read back the way stored records are.
const recordPolicy = `{"id":"86ee412f-7d17-4d32-beb5-7d1bf6320e06","displayName":"MFA for everyone","result":"success",` +
	`"enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],"conditionsSatisfied":"application,users",` +
	`"conditionsNotSatisfied":"none","includeRulesSatisfied":[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},` +
	`{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}],"excludeRulesSatisfied":[],` +
	`"explanation":{"scope":{"code":"included","condition":"users","property":"includeUsers","value":"All"},` +
	`"grant":{"code":"grantSatisfied","condition":"grantControls","property":"mfa","matched":"fido2"}}}`

func randomRecord(t testing.TB, r *rand.Rand) SignIn {
	src := jsontest.Source{R: r, Extra: []string{"bench@lab.example"}}
	str, strs := src.String, src.Strings
	when := func() time.Time {
		return time.Date(2026, 12, 1, r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(3)*r.IntN(1e9), time.UTC)
	}
	s := SignIn{ID: str(), CreatedDateTime: when(), UserID: str(), UserPrincipalName: str(), UserDisplayName: str(),
		AppID: str(), AppDisplayName: str(), IPAddress: str(), ClientAppUsed: str(), CorrelationID: str(),
		IsInteractive: r.IntN(2) == 0, ConditionalAccessStatus: str(), AuthenticationRequirement: str(),
		AuthenticationMethodsUsed: strs(), RiskLevelDuringSignIn: str(), RiskLevelAggregated: str(), RiskState: str(),
		Status:       SignInStatus{ErrorCode: r.IntN(600000) - 1, FailureReason: str(), AdditionalDetails: str()},
		DeviceDetail: DeviceDetail{OperatingSystem: str(), Browser: str()},
		ResourceID:   str(), ResourceDisplayName: str(), RiskDetail: str(), RiskEventTypesV2: strs(), UserAgent: str(),
		IsEmergencyAccess: r.IntN(2) == 0, RaisesAlert: r.IntN(2) == 0}
	if r.IntN(4) > 0 {
		s.AppliedConditionalAccessPolicies = []policy.AppliedConditionalAccessPolicy{}
		for range r.IntN(3) {
			var p policy.AppliedConditionalAccessPolicy
			if err := json.Unmarshal([]byte(recordPolicy), &p); err != nil {
				t.Fatal(err)
			}
			p.DisplayName, p.EnforcedSessionControls = str(), strs()
			if r.IntN(2) == 0 {
				p.OmitBetaConditions()
			}
			if r.IntN(2) == 0 {
				p.AuthenticationStrength = policy.AuthenticationStrength{AuthenticationStrengthID: str(), DisplayName: str(), AuthenticationStrengthResult: str()}
			}
			s.AppliedConditionalAccessPolicies = append(s.AppliedConditionalAccessPolicies, p)
		}
	}
	if r.IntN(4) > 0 {
		s.AuthenticationDetails = []AuthenticationDetail{}
		for range r.IntN(3) {
			s.AuthenticationDetails = append(s.AuthenticationDetails, AuthenticationDetail{AuthenticationStepDateTime: when(),
				AuthenticationMethod: str(), AuthenticationMethodDetail: str(), Succeeded: r.IntN(2) == 0,
				AuthenticationStepResultDetail: str(), AuthenticationStepRequirement: str()})
		}
	}
	if r.IntN(3) == 0 {
		for range r.IntN(3) {
			s.AuthenticationContextClassReferences = append(s.AuthenticationContextClassReferences, AuthenticationContext{ID: str(), Detail: str()})
		}
	}
	if r.IntN(20) == 0 {
		lat := 47.6
		s.Location = &SignInLocation{City: str(), GeoCoordinates: &GeoCoordinates{Latitude: &lat}}
	}
	return s
}

func TestAppendSignInMatchesJSON(t *testing.T) {
	// A field added to one of these types must be added to AppendJSON too.
	for typ, fields := range map[reflect.Type]int{
		reflect.TypeFor[SignIn](): 30, reflect.TypeFor[AuthenticationDetail](): 6, reflect.TypeFor[SignInStatus](): 3,
		reflect.TypeFor[DeviceDetail](): 2, reflect.TypeFor[AuthenticationContext](): 2,
	} {
		if n := typ.NumField(); n != fields {
			t.Errorf("%s has %d fields; AppendJSON writes %d: update it (and this count)", typ, n, fields)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		s := randomRecord(t, r)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("AppendJSON\n%s\nencoding/json\n%s", got, want)
		}
	}
	bad := SignIn{CreatedDateTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Fatal("a year json.Marshal refuses was encoded")
	}
}

// benchRecord is a record of the bench's load (scripts/bench.sh): a
// passkey sign-in through one enabled policy.
const benchRecord = `{"id":"c6a83127-8573-4fe9-a680-f95a29797eba","createdDateTime":"2026-12-01T20:25:07.633472Z","userId":"fcb8d20c-ec98-47d3-a735-2f821afee71f","userPrincipalName":"bench@lab.example","userDisplayName":"Bench","appId":"00000000-0000-0000-0000-00000000a001","appDisplayName":"rpserver lab portal","ipAddress":"192.0.2.1","clientAppUsed":"Browser","correlationId":"4ef617c0-294b-40cd-a05c-c1e5948b6544","isInteractive":true,"conditionalAccessStatus":"success","appliedConditionalAccessPolicies":[{"id":"86ee412f-7d17-4d32-beb5-7d1bf6320e06","displayName":"MFA for everyone","result":"success","enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],"conditionsSatisfied":"application,users","conditionsNotSatisfied":"none","includeRulesSatisfied":[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}],"excludeRulesSatisfied":[],"explanation":{"scope":{"code":"included","condition":"users","property":"includeUsers","value":"All","text":"applied: user in includeUsers All"},"grant":{"code":"grantSatisfied","condition":"grantControls","property":"mfa","matched":"fido2","text":"grant satisfied: mfa by fido2"}}}],"authenticationDetails":[{"authenticationStepDateTime":"2026-12-01T20:25:07.633387Z","authenticationMethod":"Passkey (device-bound)","authenticationMethodDetail":"Passkey (device-bound), Microsoft Authenticator (iOS)","succeeded":true,"authenticationStepResultDetail":"MFA successfully completed","authenticationStepRequirement":"Primary authentication"}],"authenticationRequirement":"multiFactorAuthentication","authenticationMethodsUsed":["Passkey (device-bound)"],"riskLevelDuringSignIn":"none","riskLevelAggregated":"none","riskState":"none","status":{"errorCode":0},"deviceDetail":{"operatingSystem":"Windows10","browser":"Edge 131.0.2903"},"location":null,"resourceId":"00000000-0000-0000-0000-00000000a001","resourceDisplayName":"rpserver lab portal","riskDetail":"none","riskEventTypes_v2":[],"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70","isEmergencyAccess":false}`

func TestAppendJSONBenchRecord(t *testing.T) {
	var s SignIn
	if err := json.Unmarshal([]byte(benchRecord), &s); err != nil {
		t.Fatal(err)
	}
	got, err := s.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(s); string(got) != string(want) || string(got) != benchRecord {
		t.Fatalf("AppendJSON\n%s\nencoding/json\n%s\nstored\n%s", got, want, benchRecord)
	}
}

func BenchmarkSignInJSON(b *testing.B) {
	var s SignIn
	if err := json.Unmarshal([]byte(benchRecord), &s); err != nil {
		b.Fatal(err)
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.AppendJSON(make([]byte, 0, 3072)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
