package signinlog

import (
	"net/url"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
)

// Filter is the subset of Graph's $filter on signIns the lab serves, in the
// form the store pushes to SQL. Zero fields do not filter.
type Filter struct {
	UserID            string
	UserPrincipalName string // compared case-insensitively, as Entra does
	AppID             string
	// Time bounds on createdDateTime; the *Exclusive flags turn ge/le into gt/lt.
	From, To                   time.Time
	FromExclusive, ToExclusive bool
	// ErrorCode filters on status/errorCode: equal to it, or different from
	// it when ErrorCodeNot (`status/errorCode ne 0` = failures).
	ErrorCode               *int
	ErrorCodeNot            bool
	ConditionalAccessStatus string
}

// Resource is what GET /auditLogs/signIns honours: $filter (comparisons
// joined by and), $select, $top up to 999 and $skiptoken. Graph's signIn
// reference documents more filterable properties; the rest are refused.
var Resource = &odata.Resource{Name: "signIn", Select: true, Top: true, MaxTop: 999,
	Filter: []odata.Property{
		{Name: "userId", Type: odata.GUID, Ops: []string{"eq"}},
		{Name: "userPrincipalName", Type: odata.String, Ops: []string{"eq"}},
		{Name: "appId", Type: odata.String, Ops: []string{"eq"}},
		{Name: "createdDateTime", Type: odata.DateTime, Ops: []string{"ge", "gt", "le", "lt"}},
		{Name: "status/errorCode", Type: odata.Int, Ops: []string{"eq", "ne"}},
		// conditionalAccessStatus members from Graph's v1.0 CSDL.
		{Name: "conditionalAccessStatus", Type: odata.Enum, Ops: []string{"eq"}, Values: []string{"success", "failure", "notApplied", "unknownFutureValue"}},
	}}

// ParseFilter parses a $filter expression on signIns (see Resource).
func ParseFilter(expr string) (Filter, error) {
	q, err := odata.Parse(url.Values{"$filter": {expr}}, nil, Resource)
	if err != nil {
		return Filter{}, err
	}
	return FilterOf(q.Filter)
}

// FilterOf turns a $filter that odata.Parse validated against Resource into
// the store's Filter. A property compared twice (per bound for
// createdDateTime) is refused: the second comparison would either
// contradict or silently replace the first.
func FilterOf(e odata.Expr) (Filter, error) {
	var f Filter
	cs, err := odata.Comparisons(e, "signIns", "createdDateTime")
	if err != nil {
		return f, err
	}
	for _, c := range cs {
		switch c.Prop {
		case "userId":
			f.UserID = c.Value.(string)
		case "userPrincipalName":
			f.UserPrincipalName = c.Value.(string)
		case "appId":
			f.AppID = c.Value.(string)
		case "conditionalAccessStatus":
			f.ConditionalAccessStatus = c.Value.(string)
		case "createdDateTime":
			t := c.Value.(time.Time)
			if c.Op == odata.Ge || c.Op == odata.Gt {
				f.From, f.FromExclusive = t, c.Op == odata.Gt
			} else {
				f.To, f.ToExclusive = t, c.Op == odata.Lt
			}
		case "status/errorCode":
			n := int(c.Value.(int64))
			f.ErrorCode, f.ErrorCodeNot = &n, c.Op == odata.Ne
		default:
			return f, filterErr("property %q cannot be filtered on", c.Prop)
		}
	}
	return f, nil
}

func filterErr(format string, args ...any) error {
	return apperr.Invalid(odata.CodeUnsupportedQuery, format, args...).WithTarget("$filter")
}
