package conditionalaccess

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// CreateNamedLocation validates and saves an ipNamedLocation or
// countryNamedLocation.
func (s *Service) CreateNamedLocation(ctx context.Context, l policy.NamedLocation) (policy.NamedLocation, error) {
	if err := policy.ValidateNamedLocation(l); err != nil {
		return l, validationError(apperr.KindInvalid, err)
	}
	l.ID = uuid.NewString()
	l.Normalize()
	return s.store.CreateNamedLocation(ctx, l)
}

// GetNamedLocation reads one location.
func (s *Service) GetNamedLocation(ctx context.Context, id string) (policy.NamedLocation, error) {
	if err := directory.ValidateID(id); err != nil {
		return policy.NamedLocation{}, err
	}
	return s.store.GetNamedLocation(ctx, id)
}

// ListNamedLocations reads every location (Entra caps them at 195).
func (s *Service) ListNamedLocations(ctx context.Context) ([]policy.NamedLocation, error) {
	return s.store.ListNamedLocations(ctx)
}

// UpdateNamedLocation applies a Graph PATCH body. Graph requires the
// body's @odata.type and forbids changing the kind; so does the lab.
func (s *Service) UpdateNamedLocation(ctx context.Context, id string, patch []byte) (policy.NamedLocation, error) {
	if err := directory.ValidateID(id); err != nil {
		return policy.NamedLocation{}, err
	}
	return s.store.UpdateNamedLocation(ctx, id, func(cur policy.NamedLocation) (policy.NamedLocation, error) {
		var next policy.NamedLocation
		if err := mergePatch(cur, patch, &next); err != nil {
			return cur, err
		}
		if !strings.EqualFold(next.ODataType, cur.ODataType) {
			return cur, apperr.Invalid(policy.CodeInvalidNamedLocation, "a %s cannot become a %s", cur.ODataType, next.ODataType).WithTarget("@odata.type")
		}
		next.ID, next.CreatedDateTime, next.ModifiedDateTime = cur.ID, cur.CreatedDateTime, cur.ModifiedDateTime
		if err := policy.ValidateNamedLocation(next); err != nil {
			return cur, validationError(apperr.KindInvalid, err)
		}
		next.Normalize()
		return next, nil
	})
}

// DeleteNamedLocation removes a location no policy names.
func (s *Service) DeleteNamedLocation(ctx context.Context, id string) error {
	if err := directory.ValidateID(id); err != nil {
		return err
	}
	return s.store.DeleteNamedLocation(ctx, id)
}

// checkLocations refuses a policy naming a location that does not exist
// (Graph refuses it too): otherwise the condition could never match and
// the policy would silently never apply.
func checkLocations(p *policy.ConditionalAccessPolicy, known map[string]bool) error {
	l := p.Conditions.Locations
	if l == nil {
		return nil
	}
	for prop, ids := range map[string][]string{"includeLocations": l.IncludeLocations, "excludeLocations": l.ExcludeLocations} {
		for _, id := range ids {
			if id == policy.KeywordAll || id == policy.KeywordAllTrusted || known[strings.ToLower(id)] {
				continue
			}
			return apperr.Invalid(policy.CodeUnknownNamedLocation, "conditions.locations.%s names %q, which is neither All, AllTrusted nor a named location", prop, id).
				WithTarget("conditions.locations." + prop)
		}
	}
	return nil
}
