package signinlog

import (
	"encoding/json"

	"github.com/rpserver/rpserver/internal/jsonappend"
)

// AppendJSON appends s as json.Marshal encodes it, without reflection:
// the writer encodes a record on every sign-in, and the reflective
// encoder was ~4% of the server's CPU under the bench's load
// (docs/performance.md). A record with a location, which the lab never
// writes, is left to encoding/json. TestAppendSignInMatchesJSON holds the
// bytes to json.Marshal's and fails when a field is added to the record's
// types but not here.
func (s *SignIn) AppendJSON(b []byte) ([]byte, error) {
	if s.Location != nil {
		out, err := json.Marshal(s)
		return append(b, out...), err
	}
	var err error
	str := func(key, v string) {
		b = append(b, key...)
		b = jsonappend.String(b, v)
	}
	str(`{"id":`, s.ID)
	b = append(b, `,"createdDateTime":`...)
	if b, err = jsonappend.Time(b, s.CreatedDateTime); err != nil {
		return b, err
	}
	str(`,"userId":`, s.UserID)
	str(`,"userPrincipalName":`, s.UserPrincipalName)
	str(`,"userDisplayName":`, s.UserDisplayName)
	str(`,"appId":`, s.AppID)
	str(`,"appDisplayName":`, s.AppDisplayName)
	str(`,"ipAddress":`, s.IPAddress)
	str(`,"clientAppUsed":`, s.ClientAppUsed)
	str(`,"correlationId":`, s.CorrelationID)
	b = append(b, `,"isInteractive":`...)
	b = jsonappend.Bool(b, s.IsInteractive)
	str(`,"conditionalAccessStatus":`, s.ConditionalAccessStatus)
	b = append(b, `,"appliedConditionalAccessPolicies":`...)
	if s.AppliedConditionalAccessPolicies == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range s.AppliedConditionalAccessPolicies {
			if i > 0 {
				b = append(b, ',')
			}
			b = s.AppliedConditionalAccessPolicies[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"authenticationDetails":`...)
	if s.AuthenticationDetails == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, d := range s.AuthenticationDetails {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"authenticationStepDateTime":`...)
			if b, err = jsonappend.Time(b, d.AuthenticationStepDateTime); err != nil {
				return b, err
			}
			str(`,"authenticationMethod":`, d.AuthenticationMethod)
			if d.AuthenticationMethodDetail != "" {
				str(`,"authenticationMethodDetail":`, d.AuthenticationMethodDetail)
			}
			b = append(b, `,"succeeded":`...)
			b = jsonappend.Bool(b, d.Succeeded)
			str(`,"authenticationStepResultDetail":`, d.AuthenticationStepResultDetail)
			str(`,"authenticationStepRequirement":`, d.AuthenticationStepRequirement)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	str(`,"authenticationRequirement":`, s.AuthenticationRequirement)
	b = append(b, `,"authenticationMethodsUsed":`...)
	b = jsonappend.Strings(b, s.AuthenticationMethodsUsed)
	str(`,"riskLevelDuringSignIn":`, s.RiskLevelDuringSignIn)
	str(`,"riskLevelAggregated":`, s.RiskLevelAggregated)
	str(`,"riskState":`, s.RiskState)
	b = append(b, `,"status":{"errorCode":`...)
	b = jsonappend.Int(b, int64(s.Status.ErrorCode))
	if s.Status.FailureReason != "" {
		str(`,"failureReason":`, s.Status.FailureReason)
	}
	if s.Status.AdditionalDetails != "" {
		str(`,"additionalDetails":`, s.Status.AdditionalDetails)
	}
	b = append(b, `},"deviceDetail":{`...)
	if s.DeviceDetail.OperatingSystem != "" {
		str(`"operatingSystem":`, s.DeviceDetail.OperatingSystem)
	}
	if s.DeviceDetail.Browser != "" {
		if s.DeviceDetail.OperatingSystem != "" {
			b = append(b, ',')
		}
		str(`"browser":`, s.DeviceDetail.Browser)
	}
	b = append(b, `},"location":null`...)
	str(`,"resourceId":`, s.ResourceID)
	str(`,"resourceDisplayName":`, s.ResourceDisplayName)
	str(`,"riskDetail":`, s.RiskDetail)
	b = append(b, `,"riskEventTypes_v2":`...)
	b = jsonappend.Strings(b, s.RiskEventTypesV2)
	str(`,"userAgent":`, s.UserAgent)
	if len(s.AuthenticationContextClassReferences) > 0 {
		b = append(b, `,"authenticationContextClassReferences":[`...)
		for i, c := range s.AuthenticationContextClassReferences {
			if i > 0 {
				b = append(b, ',')
			}
			str(`{"id":`, c.ID)
			str(`,"detail":`, c.Detail)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"isEmergencyAccess":`...)
	b = jsonappend.Bool(b, s.IsEmergencyAccess)
	return append(b, '}'), nil
}
