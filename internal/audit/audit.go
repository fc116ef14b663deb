// Package audit is the directory audit log (Graph's directoryAudit): who
// changed what in the tenant, with the old and new values. Records are not
// written by services: a trigger on every admin table writes one in the
// changed row's own transaction (migrations/014_directory_audits.sql), so
// no code path can change the directory unaudited. What this package owns
// is who the actor is (carried in the request's context, which
// internal/store hands to the database with the connection) and the
// record's Graph shape and query options.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rpserver/rpserver/internal/odata"
)

// Actor is who makes a request's changes: Graph's initiatedBy.
type Actor struct {
	User *UserIdentity `json:"user,omitempty"`
	App  *AppIdentity  `json:"app,omitempty"`
}

// UserIdentity is Graph's userIdentity.
type UserIdentity struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	IPAddress         string `json:"ipAddress,omitempty"`
}

// AppIdentity is Graph's appIdentity.
type AppIdentity struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName,omitempty"`
}

type ctxKey struct{}

type attribution struct {
	actor         string // Actor as JSON: what the trigger records
	correlationID string
}

// WithActor says that changes made with ctx are made by a on behalf of the
// request correlationID.
func WithActor(ctx context.Context, a Actor, correlationID string) context.Context {
	raw, _ := json.Marshal(a)
	return context.WithValue(ctx, ctxKey{}, attribution{actor: string(raw), correlationID: correlationID})
}

// FromContext returns the actor (as the JSON the log records) and the
// correlation id of ctx; ok is false when ctx carries no actor (a change
// that is nobody's admin action: it is not audited).
func FromContext(ctx context.Context) (actorJSON, correlationID string, ok bool) {
	a, ok := ctx.Value(ctxKey{}).(attribution)
	return a.actor, a.correlationID, ok
}

// DirectoryAudit is Graph's directoryAudit (v1.0).
type DirectoryAudit struct {
	ID                  string           `json:"id"`
	Category            string           `json:"category"`
	CorrelationID       string           `json:"correlationId"`
	Result              string           `json:"result"`
	ResultReason        string           `json:"resultReason"`
	ActivityDisplayName string           `json:"activityDisplayName"`
	ActivityDateTime    time.Time        `json:"activityDateTime"`
	LoggedByService     string           `json:"loggedByService"`
	OperationType       string           `json:"operationType"`
	InitiatedBy         Actor            `json:"initiatedBy"`
	TargetResources     []TargetResource `json:"targetResources"`
	AdditionalDetails   []KeyValue       `json:"additionalDetails"`
}

// TargetResource is Graph's targetResource.
type TargetResource struct {
	ID                 string             `json:"id"`
	DisplayName        *string            `json:"displayName"`
	Type               string             `json:"type"`
	UserPrincipalName  *string            `json:"userPrincipalName"`
	ModifiedProperties []ModifiedProperty `json:"modifiedProperties"`
}

// ModifiedProperty is Graph's modifiedProperty: values are JSON text, as
// Graph gives them.
type ModifiedProperty struct {
	DisplayName string  `json:"displayName"`
	OldValue    *string `json:"oldValue"`
	NewValue    *string `json:"newValue"`
}

// KeyValue is Graph's keyValue.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LoggedByService is what every record names: the lab's directory.
const LoggedByService = "Core Directory"

// Resource is what GET /auditLogs/directoryAudits honours, from Graph's
// "List directoryAudits" reference: $filter on activityDateTime (ge, le,
// gt, lt), category, activityDisplayName, correlationId, result,
// loggedByService, initiatedBy/user/id and
// initiatedBy/user/userPrincipalName (eq), joined with and; $top up to 999
// and $skiptoken. Graph filters targets with a lambda
// (targetResources/any(t: t/id eq '…')), which the lab's OData parser does
// not read: the lab takes ?targetId= instead (documented as a lab
// extension) and refuses the lambda with Request_UnsupportedQuery.
var Resource = &odata.Resource{Name: "directoryAudit", Select: true, Top: true, MaxTop: 999, Extra: []string{"targetId"},
	Filter: []odata.Property{
		{Name: "activityDateTime", Type: odata.DateTime, Ops: []string{"ge", "gt", "le", "lt"}},
		{Name: "category", Type: odata.String, Ops: []string{"eq"}},
		{Name: "activityDisplayName", Type: odata.String, Ops: []string{"eq", "startsWith"}},
		{Name: "correlationId", Type: odata.String, Ops: []string{"eq"}},
		{Name: "result", Type: odata.Enum, Ops: []string{"eq"}, Values: []string{"success", "failure", "timeout", "unknownFutureValue"}},
		{Name: "loggedByService", Type: odata.String, Ops: []string{"eq"}},
		{Name: "initiatedBy/user/id", Type: odata.GUID, Ops: []string{"eq"}},
		{Name: "initiatedBy/user/userPrincipalName", Type: odata.String, Ops: []string{"eq"}},
	}}

// Filter is a validated $filter (plus ?targetId) for the store.
type Filter struct {
	From, To                   time.Time
	FromExclusive, ToExclusive bool
	Category                   string
	Activity                   string
	ActivityPrefix             bool
	CorrelationID              string
	Result                     string
	LoggedByService            string
	InitiatorID                string
	InitiatorUPN               string
	TargetID                   string
}

// Override carries a forced override of Conditional Access lockout
// protection from the check that found it to the store writing the change,
// which records it in the change's own transaction: an override is never
// saved without its record, and a refused or failed change leaves none.
type Override struct {
	// Findings is what was overridden (the findings' text); empty: nothing.
	Findings string
}

type overrideKey struct{}

// WithOverride returns ctx carrying an empty Override for the check to fill.
func WithOverride(ctx context.Context) (context.Context, *Override) {
	o := &Override{}
	return context.WithValue(ctx, overrideKey{}, o), o
}

// OverrideFrom is the Override of ctx, nil without one.
func OverrideFrom(ctx context.Context) *Override {
	o, _ := ctx.Value(overrideKey{}).(*Override)
	return o
}

// ActivityLockoutOverride is the activity of an override's record.
const ActivityLockoutOverride = "Override Conditional Access lockout protection"
