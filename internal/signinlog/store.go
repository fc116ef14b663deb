package signinlog

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/ids"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/policy"
)

// Stable codes.
const (
	// CodeInvalidQuery refuses a $skiptoken this server did not issue:
	// Graph's BadRequest, the code odata uses for options it cannot read.
	CodeInvalidQuery = odata.CodeBadRequest
	// CodeInvalidSignIn refuses a record the writer cannot store (a
	// programming error in the caller, never a client's fault).
	CodeInvalidSignIn = "invalidSignIn"
	// CodeInvalidAlertStatus refuses an alert status other than new,
	// inProgress or resolved.
	CodeInvalidAlertStatus = "invalidAlertStatus"
)

// Store persists sign-ins and the alerts they raise.
type Store interface {
	// InsertSignIns stores the records in ONE transaction, with an alert
	// for each emergency-access sign-in, and returns once it is committed.
	// A record whose id is already stored is taken as a retry and skipped,
	// so a caller unsure whether a write landed may write it again.
	InsertSignIns(ctx context.Context, records []SignIn) error
	// ListSignIns returns the records matching f, newest first.
	ListSignIns(ctx context.Context, f Filter, p Page) ([]SignIn, error)
	GetSignIn(ctx context.Context, id string) (SignIn, error)
	// PolicyImpact reports what Conditional Access policy id did to the
	// sign-ins of [start, end) (see PolicyImpact).
	PolicyImpact(ctx context.Context, id string, start, end time.Time) (PolicyImpact, error)

	ListAlerts(ctx context.Context, p Page) ([]Alert, error)
	GetAlert(ctx context.Context, id string) (Alert, error)
	// SetAlertStatus changes an alert's status (new, inProgress, resolved).
	SetAlertStatus(ctx context.Context, id, status string, now time.Time) (Alert, error)
}

// Page is one keyset page of a newest-first list.
type Page struct {
	Top   int
	After *Cursor // nil: from the newest
}

// Cursor is the keyset position (createdDateTime desc, id desc) of the last
// item of the previous page. Keyset rather than offset paging keeps a page
// stable while new sign-ins arrive at the head.
type Cursor struct {
	CreatedDateTime time.Time
	ID              string
}

// CursorAfter is the cursor that continues after an item.
func CursorAfter(created time.Time, id string) Cursor {
	return Cursor{CreatedDateTime: created, ID: id}
}

// Encode renders the cursor as an opaque $skiptoken.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedDateTime.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// DecodeCursor reads a $skiptoken made by Encode.
func DecodeCursor(token string) (Cursor, error) {
	bad := apperr.Invalid(CodeInvalidQuery, "$skiptoken is not one this server issued").WithTarget("$skiptoken")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || !ids.Valid(id) {
		return Cursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Cursor{}, bad
	}
	return Cursor{CreatedDateTime: t, ID: id}, nil
}

// Normalize prepares a record for storage: an id and a creation time when
// missing, times in UTC at PostgreSQL's microsecond precision (so the stored
// JSON and the indexed column agree, and keyset cursors compare exactly),
// and nil slices as [] (Graph never sends null collections).
func Normalize(s *SignIn, now time.Time) error {
	if s.ID == "" {
		s.ID = uuid.NewString()
	} else if !ids.Valid(s.ID) {
		return apperr.Invalid(CodeInvalidSignIn, "sign-in id %q is not a GUID", s.ID).WithTarget("id")
	}
	if s.UserID != "" && !ids.Valid(s.UserID) {
		return apperr.Invalid(CodeInvalidSignIn, "sign-in userId %q is not a GUID", s.UserID).WithTarget("userId")
	}
	if s.CreatedDateTime.IsZero() {
		s.CreatedDateTime = now
	}
	s.CreatedDateTime = s.CreatedDateTime.UTC().Truncate(time.Microsecond)
	if s.AppliedConditionalAccessPolicies == nil {
		s.AppliedConditionalAccessPolicies = []policy.AppliedConditionalAccessPolicy{}
	}
	if s.AuthenticationDetails == nil {
		s.AuthenticationDetails = []AuthenticationDetail{}
	}
	for i := range s.AuthenticationDetails {
		d := &s.AuthenticationDetails[i]
		d.AuthenticationStepDateTime = d.AuthenticationStepDateTime.UTC().Truncate(time.Microsecond)
	}
	if s.AuthenticationMethodsUsed == nil {
		s.AuthenticationMethodsUsed = []string{}
	}
	if s.RiskEventTypesV2 == nil {
		s.RiskEventTypesV2 = []string{}
	}
	if s.RiskDetail == "" {
		s.RiskDetail = "none"
	}
	return nil
}
