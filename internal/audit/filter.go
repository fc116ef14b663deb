package audit

import (
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
)

// FilterOf turns a $filter that odata.Parse validated against Resource,
// and the lab's targetId parameter, into the store's Filter. A property
// compared twice (per bound for activityDateTime) is refused: the second
// comparison would contradict or silently replace the first.
func FilterOf(e odata.Expr, targetID string) (Filter, error) {
	f := Filter{TargetID: targetID}
	if targetID != "" && uuid.Validate(targetID) != nil {
		return f, apperr.Invalid("invalidId", "targetId is not a valid id").WithTarget("targetId")
	}
	cs, err := odata.Comparisons(e, "directoryAudits", "activityDateTime")
	if err != nil {
		return f, err
	}
	for _, c := range cs {
		switch c.Prop {
		case "activityDateTime":
			at := c.Value.(time.Time)
			if c.Op == odata.Ge || c.Op == odata.Gt {
				f.From, f.FromExclusive = at, c.Op == odata.Gt
			} else {
				f.To, f.ToExclusive = at, c.Op == odata.Lt
			}
		case "category":
			f.Category = c.Value.(string)
		case "activityDisplayName":
			f.Activity, f.ActivityPrefix = c.Value.(string), c.Op == odata.StartsWith
		case "correlationId":
			f.CorrelationID = c.Value.(string)
		case "result":
			f.Result = c.Value.(string)
		case "loggedByService":
			f.LoggedByService = c.Value.(string)
		case "initiatedBy/user/id":
			f.InitiatorID = c.Value.(string)
		case "initiatedBy/user/userPrincipalName":
			f.InitiatorUPN = c.Value.(string)
		default:
			return f, filterErr("property %q cannot be filtered on", c.Prop)
		}
	}
	return f, nil
}

func filterErr(format string, args ...any) error {
	return apperr.Invalid(odata.CodeUnsupportedQuery, format, args...).WithTarget("$filter")
}
