package odata

import (
	"slices"
	"strings"
)

// Type is the Edm type of a filterable property, as far as $filter needs it.
type Type int

// The property types of $filter literals.
const (
	String Type = iota
	Enum
	GUID
	Bool
	Int
	DateTime
)

// Property is one property a resource lets clients filter on, with the
// operators Graph allows on it there ("eq", "ne", "gt", "ge", "lt", "le",
// "startsWith", "in").
type Property struct {
	Name   string
	Type   Type
	Ops    []string
	Values []string // Enum members
}

func (p Property) allows(op string) bool { return slices.Contains(p.Ops, op) }

func (p Property) refuse(res *Resource, op string) error {
	return unsupported("$filter", "Unsupported or invalid query filter clause specified for property '%s' of resource '%s': %s is not supported (supported: %s)",
		p.Name, res.Name, op, strings.Join(p.Ops, ", "))
}

// Resource declares what one list endpoint supports; each is written from
// the Graph API reference page of its list operation (cited where the
// Resource is declared). A zero field means the option is refused.
type Resource struct {
	Name string // Graph's entity type, used in messages ("user")

	// Directory objects (users, groups) need ConsistencyLevel: eventual for
	// $count, $search, ne and not: Graph calls those advanced queries.
	Directory bool

	Filter   []Property
	Or, Not  bool     // logical operators allowed in $filter
	OrderBy  []string // properties $orderby accepts
	Search   []string // properties $search accepts ("displayName")
	Expand   []string // navigation properties $expand accepts
	Select   bool     // $select on any property of the resource
	Count    bool     // $count=true
	Top      bool     // $top and server paging ($skiptoken)
	MaxTop   int      // 0: 999
	Extra    []string // lab-specific non-OData parameters the endpoint reads
	Unpaged  bool     // the list is returned whole; $top is refused
	Selected []string // property names $select may name; empty with Select: any
}

func (r *Resource) property(name string) (Property, error) {
	for _, p := range r.Filter {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
	}
	if len(r.Filter) == 0 {
		return Property{}, unsupported("$filter", "$filter is not supported on %s", r.Name)
	}
	names := make([]string, len(r.Filter))
	for i, p := range r.Filter {
		names[i] = p.Name
	}
	return Property{}, unsupported("$filter", "Unsupported or invalid query filter clause specified for property '%s' of resource '%s' (filterable: %s)",
		name, r.Name, strings.Join(names, ", "))
}

func (r *Resource) advancedHint() string {
	if r.Directory {
		return "needs the ConsistencyLevel: eventual header (an advanced query)"
	}
	return "is not supported"
}
