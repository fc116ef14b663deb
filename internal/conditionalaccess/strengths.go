package conditionalaccess

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

func errBuiltInReadOnly(id string) error {
	return apperr.Invalid(policy.CodeBuiltInReadOnly, "authentication strength %s is built in and cannot be changed or deleted; create a custom strength instead", id).WithTarget("id")
}

// CreateStrength validates and saves a custom authentication strength.
// policyType and requirementsSatisfied are computed, as in Graph.
func (s *Service) CreateStrength(ctx context.Context, st policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error) {
	// Validated with the id the client sent so that posting a built-in's id
	// is refused as builtInReadOnly rather than silently renumbered.
	if err := policy.ValidateCustomStrength(st); err != nil {
		return st, validationError(apperr.KindInvalid, err)
	}
	st.ID = uuid.NewString()
	normaliseStrength(&st)
	return s.store.CreateStrength(ctx, st)
}

// UpdateStrength applies a Graph PATCH body to a custom strength.
func (s *Service) UpdateStrength(ctx context.Context, id string, patch []byte) (policy.AuthenticationStrengthPolicy, error) {
	if policy.IsBuiltInStrengthID(id) {
		return policy.AuthenticationStrengthPolicy{}, errBuiltInReadOnly(id)
	}
	if err := directory.ValidateID(id); err != nil {
		return policy.AuthenticationStrengthPolicy{}, err
	}
	return s.store.UpdateStrength(ctx, id, func(cur policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error) {
		var next policy.AuthenticationStrengthPolicy
		if err := mergePatch(cur, patch, &next); err != nil {
			return cur, err
		}
		next.ID, next.CreatedDateTime, next.ModifiedDateTime = cur.ID, cur.CreatedDateTime, cur.ModifiedDateTime
		next.PolicyType = policy.PolicyTypeCustom
		if err := policy.ValidateCustomStrength(next); err != nil {
			return cur, validationError(apperr.KindInvalid, err)
		}
		normaliseStrength(&next)
		return next, nil
	})
}

func normaliseStrength(st *policy.AuthenticationStrengthPolicy) {
	st.PolicyType = policy.PolicyTypeCustom
	st.RequirementsSatisfied = policy.RequirementsSatisfiedFor(st.AllowedCombinations)
	if st.CombinationConfigurations == nil {
		st.CombinationConfigurations = []policy.CombinationConfiguration{}
	}
	for i := range st.CombinationConfigurations {
		cc := &st.CombinationConfigurations[i]
		cc.ODataType = policy.ODataTypeFido2CombinationConfiguration
		if cc.ID == "" {
			cc.ID = uuid.NewString()
		}
	}
}

// DeleteStrength removes a custom strength no policy requires.
func (s *Service) DeleteStrength(ctx context.Context, id string) error {
	if policy.IsBuiltInStrengthID(id) {
		return errBuiltInReadOnly(id)
	}
	if err := directory.ValidateID(id); err != nil {
		return err
	}
	return s.store.DeleteStrength(ctx, id)
}

// GetStrength returns a built-in or custom strength.
func (s *Service) GetStrength(ctx context.Context, id string) (policy.AuthenticationStrengthPolicy, error) {
	for _, b := range policy.BuiltInStrengths() {
		if b.ID == id {
			return b, nil
		}
	}
	if err := directory.ValidateID(id); err != nil {
		return policy.AuthenticationStrengthPolicy{}, err
	}
	return s.store.GetStrength(ctx, id)
}

// ListStrengths returns one page of built-in and custom strengths ordered
// by id, so the keyset paging of the custom ones spans the built-ins too.
func (s *Service) ListStrengths(ctx context.Context, page directory.Page) ([]policy.AuthenticationStrengthPolicy, error) {
	custom, err := s.store.ListStrengths(ctx, page)
	if err != nil {
		return nil, err
	}
	out := custom
	for _, b := range policy.BuiltInStrengths() {
		if b.ID > page.After {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if page.Top > 0 && len(out) > page.Top {
		out = out[:page.Top]
	}
	return out, nil
}
