package api

import (
	"net/http"
	"slices"

	"github.com/rpserver/rpserver/internal/ids"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
)

// The query options each list endpoint honours. Each is written from the
// Graph API reference page of the list operation ("Optional query
// parameters") and the resource's property table ("Supports $filter (eq,
// ...)"); where the lab supports less than Graph, the option is refused,
// never ignored. docs/api.md lists the differences per resource.

func strProp(name string) odata.Property {
	return odata.Property{Name: name, Type: odata.String, Ops: []string{"eq", "ne", "startsWith", "in"}}
}

func guidProp(name string) odata.Property {
	return odata.Property{Name: name, Type: odata.GUID, Ops: []string{"eq", "ne", "in"}}
}

func boolProp(name string) odata.Property {
	return odata.Property{Name: name, Type: odata.Bool, Ops: []string{"eq", "ne"}}
}

func timeProp(name string) odata.Property {
	return odata.Property{Name: name, Type: odata.DateTime, Ops: []string{"eq", "ge", "gt", "le", "lt"}}
}

func enumProp(name string, values ...string) odata.Property {
	return odata.Property{Name: name, Type: odata.Enum, Ops: []string{"eq", "ne", "in"}, Values: values}
}

// userFilter: user's properties that Graph documents as filterable and the
// lab stores (https://learn.microsoft.com/graph/api/resources/user, the
// "Supports $filter" notes of each property).
var userFilter = func() []odata.Property {
	ps := []odata.Property{guidProp("id"), strProp("userPrincipalName"), strProp("displayName"), boolProp("accountEnabled"), timeProp("createdDateTime")}
	for _, p := range directory.ProfileStringProperties {
		ps = append(ps, strProp(p))
	}
	return ps
}()

// List users: $count, $filter, $orderby, $search, $select, $top (Graph also
// has $expand, which the lab refuses: it models no navigation of users).
var usersRes = &odata.Resource{Name: "user", Directory: true, Filter: userFilter, Or: true, Not: true,
	OrderBy: []string{"displayName", "userPrincipalName"}, Search: []string{"displayName", "userPrincipalName", "mail", "givenName", "surname"},
	Select: true, Count: true, Top: true}

// List groups: $count, $filter, $orderby, $search, $select, $top.
var groupsRes = &odata.Resource{Name: "group", Directory: true, Or: true, Not: true,
	Filter: []odata.Property{guidProp("id"), strProp("displayName"), strProp("description"), strProp("mailNickname"),
		boolProp("securityEnabled"), boolProp("mailEnabled"), boolProp("isAssignableToRole"), timeProp("createdDateTime")},
	OrderBy: []string{"displayName"}, Search: []string{"displayName", "description"}, Select: true, Count: true, Top: true}

// List group members / owners: directoryObjects; the lab's are all users.
var membersRes = &odata.Resource{Name: "directoryObject", Directory: true, Filter: userFilter, Or: true, Not: true,
	OrderBy: []string{"displayName"}, Search: []string{"displayName", "userPrincipalName", "mail"}, Select: true, Count: true, Top: true}

// List memberOf: the user's groups (a small list, evaluated in memory).
var memberOfRes = &odata.Resource{Name: "directoryObject", Directory: true, Filter: groupsRes.Filter, Or: true, Not: true,
	OrderBy: []string{"displayName"}, Select: true, Count: true, Top: true}

// List roleDefinitions: $filter and $select (the built-in set is returned
// whole).
var roleDefinitionsRes = &odata.Resource{Name: "unifiedRoleDefinition", Or: true, Unpaged: true, Select: true,
	Filter: []odata.Property{guidProp("id"), guidProp("templateId"), strProp("displayName"), boolProp("isBuiltIn"), boolProp("isEnabled")}}

// List roleAssignments: $filter, $expand (principal, roleDefinition),
// $select, $top.
var roleAssignmentsRes = &odata.Resource{Name: "unifiedRoleAssignment", Or: true,
	Filter: []odata.Property{guidProp("id"), guidProp("principalId"), guidProp("roleDefinitionId"),
		{Name: "directoryScopeId", Type: odata.String, Ops: []string{"eq"}}},
	Expand: []string{"principal", "roleDefinition"}, Select: true, Top: true}

// roleAssignmentRes: GET of one assignment, with $expand and $select.
var roleAssignmentRes = &odata.Resource{Name: "unifiedRoleAssignment", Expand: roleAssignmentsRes.Expand, Select: true}

// List conditionalAccessPolicies: $filter, $select, $top (at most 195
// policies exist in a tenant, so the lab filters them in memory).
var caPoliciesRes = &odata.Resource{Name: "conditionalAccessPolicy", Or: true, Select: true, Top: true,
	Filter: []odata.Property{guidProp("id"), strProp("displayName"),
		enumProp("state", "enabled", "disabled", "enabledForReportingButNotEnforced"), timeProp("createdDateTime"), timeProp("modifiedDateTime")}}

// List authenticationStrengthPolicies: $filter, $select, $top.
var strengthsRes = &odata.Resource{Name: "authenticationStrengthPolicy", Or: true, Select: true, Top: true,
	Filter: []odata.Property{{Name: "id", Type: odata.String, Ops: []string{"eq", "in"}}, strProp("displayName"),
		enumProp("policyType", "builtIn", "custom"), enumProp("requirementsSatisfied", "none", "mfa")}}

// List namedLocations: $filter, $select, $top, $orderby.
//
//lint:ignore U1000 declared for the namedLocations list (Graph issue #12), not routed yet
var namedLocationsRes = &odata.Resource{Name: "namedLocation", Or: true, Select: true, Top: true,
	Filter:  []odata.Property{guidProp("id"), strProp("displayName"), timeProp("createdDateTime"), timeProp("modifiedDateTime")},
	OrderBy: []string{"displayName", "createdDateTime", "modifiedDateTime"}}

// List alerts_v2: $select, $top, $skiptoken ($filter is not modelled).
var alertsRes = &odata.Resource{Name: "alert", Select: true, Top: true}

// List riskyUsers: $filter, $select, $top, $orderby.
var riskyUsersRes = &odata.Resource{Name: "riskyUser", Or: true, Select: true, Top: true,
	Filter: []odata.Property{guidProp("id"), strProp("userPrincipalName"), strProp("userDisplayName"),
		enumProp("riskLevel", "low", "medium", "high", "hidden", "none", "unknownFutureValue"),
		enumProp("riskState", "none", "confirmedSafe", "remediated", "dismissed", "atRisk", "confirmedCompromised", "unknownFutureValue"),
		{Name: "riskDetail", Type: odata.String, Ops: []string{"eq", "ne", "in"}}, timeProp("riskLastUpdatedDateTime"), boolProp("isDeleted")},
	OrderBy: []string{"riskLastUpdatedDateTime", "userPrincipalName", "riskLevel"}}

// riskHistoryRes: a user's risk history (keyset pages; $filter matched on
// the items as the store reads them).
var riskHistoryRes = &odata.Resource{Name: "riskyUserHistoryItem", Select: true, Top: true,
	Filter: []odata.Property{enumProp("riskLevel", "low", "medium", "high", "hidden", "none", "unknownFutureValue"),
		enumProp("riskState", "none", "confirmedSafe", "remediated", "dismissed", "atRisk", "confirmedCompromised", "unknownFutureValue"),
		timeProp("riskLastUpdatedDateTime")}}

// List authenticationMethodModes: $filter on authenticationMethod, $select.
var methodModesRes = &odata.Resource{Name: "authenticationMethodModeDetail", Select: true, Unpaged: true, Or: true,
	Filter: []odata.Property{{Name: "id", Type: odata.String, Ops: []string{"eq", "in"}}, {Name: "authenticationMethod", Type: odata.String, Ops: []string{"eq", "in"}}}}

// methodsRes: the per-user method lists, which Graph documents without
// query options; $select is the one the lab honours.
var methodsRes = &odata.Resource{Name: "authenticationMethod", Select: true, Unpaged: true}

// dirQueryOf turns validated options into a store query: keyset paging on
// id, or offset paging when ordered.
func dirQueryOf(q odata.Query) (directory.Query, error) {
	dq := directory.Query{Filter: q.Filter, Search: q.Search, OrderBy: q.OrderBy, Page: directory.Page{Top: q.Top}, Count: q.Count}
	if q.SkipToken == "" {
		return dq, nil
	}
	if len(q.OrderBy) > 0 {
		off, ok := parseOffsetToken(q.SkipToken)
		if !ok {
			return dq, badSkipToken()
		}
		dq.Offset = off
		return dq, nil
	}
	if !ids.Valid(q.SkipToken) {
		return dq, badSkipToken()
	}
	dq.After = q.SkipToken
	return dq, nil
}

func badSkipToken() error {
	return apperr.Invalid(odata.CodeBadRequest, "$skiptoken is not one this server issued for this query").WithTarget("$skiptoken")
}

// nextToken is the $skiptoken after a full page of a directory listing.
func nextToken(dq directory.Query, n int, lastID string) string {
	if n < dq.Top || n == 0 {
		return ""
	}
	if len(dq.OrderBy) > 0 {
		return offsetToken(dq.Offset + n)
	}
	return lastID
}

// pageInMemory filters, orders and pages a small list (policies, role
// definitions, a user's groups) with the validated query.
func pageInMemory[T any](items []T, q odata.Query) (page []T, next string, count int, err error) {
	type pair struct {
		obj  odata.Object
		item T
	}
	matched := make([]pair, 0, len(items))
	for _, it := range items {
		o, err := odata.ToObject(it)
		if err != nil {
			return nil, "", 0, err
		}
		if odata.Match(q.Filter, o) {
			matched = append(matched, pair{o, it})
		}
	}
	if len(q.OrderBy) > 0 {
		slices.SortStableFunc(matched, func(a, b pair) int { return odata.CompareProp(a.obj, b.obj, q.OrderBy[0]) })
	}
	offset := 0
	if q.SkipToken != "" {
		var ok bool
		if offset, ok = parseOffsetToken(q.SkipToken); !ok {
			return nil, "", 0, badSkipToken()
		}
	}
	count = len(matched)
	top := q.Top
	if top <= 0 {
		top = len(matched)
	}
	for i := offset; i < len(matched) && len(page) < top; i++ {
		page = append(page, matched[i].item)
	}
	if offset+len(page) < len(matched) {
		next = offsetToken(offset + len(page))
	}
	if page == nil {
		page = []T{}
	}
	return page, next, count, nil
}

// listQuery reads the options for a list endpoint, writing the refusal.
func listQuery(w http.ResponseWriter, r *http.Request, res *odata.Resource) (odata.Query, bool) {
	q, err := queryOf(r, res)
	if err != nil {
		writeError(w, r, err)
		return q, false
	}
	if res.Unpaged {
		q.Top = 0
	}
	return q, true
}
