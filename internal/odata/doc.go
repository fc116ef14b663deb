// Package odata is the lab's one reading of Microsoft Graph's OData query
// options ($filter, $select, $top, $skiptoken, $count, $orderby, $search,
// $expand). Parse checks a request's options against the Resource that the
// endpoint declares (which properties Graph lets a client filter, sort or
// search on for that resource, and with which operators) and returns a
// validated Query; anything a Resource does not declare is refused with a
// stable code, never ignored, so a client never reads an unfiltered list
// believing it filtered.
//
// The package knows no storage: internal/store compiles a validated Filter
// to SQL where lists can be large, and Match evaluates one in memory for
// the small, fixed lists (role definitions, policies).
package odata
