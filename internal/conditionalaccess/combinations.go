package conditionalaccess

import (
	"context"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// A strength's combinationConfigurations as their own collection (Graph's
// POST/GET/PATCH/DELETE .../authenticationStrengthPolicies/{id}/
// combinationConfigurations[/{id}]). They live inside the strength's
// document, so every change is the strength's own row-locked update,
// validated as a whole: a fido2CombinationConfiguration must apply to
// ["fido2"], which the strength's allowedCombinations must hold, as Graph
// requires.

// CodeCombinationConfigurationNotFound: no configuration with that id on
// the strength.
const CodeCombinationConfigurationNotFound = apperr.CodeNotFound

func errNoCombination(strengthID, id string) error {
	return apperr.NotFound(CodeCombinationConfigurationNotFound, "authentication strength %s has no combination configuration %q", strengthID, id).WithTarget("id")
}

// editCombinations runs fn on the strength's configurations inside its
// update, then validates and stores the result.
func (s *Service) editCombinations(ctx context.Context, strengthID string, fn func([]policy.CombinationConfiguration) ([]policy.CombinationConfiguration, error)) (policy.AuthenticationStrengthPolicy, error) {
	if policy.IsBuiltInStrengthID(strengthID) {
		return policy.AuthenticationStrengthPolicy{}, errBuiltInReadOnly(strengthID)
	}
	if err := directory.ValidateID(strengthID); err != nil {
		return policy.AuthenticationStrengthPolicy{}, err
	}
	return s.store.UpdateStrength(ctx, strengthID, func(cur policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error) {
		next := cur
		ccs, err := fn(append([]policy.CombinationConfiguration(nil), cur.CombinationConfigurations...))
		if err != nil {
			return cur, err
		}
		next.CombinationConfigurations = ccs
		if err := policy.ValidateCustomStrength(next); err != nil {
			return cur, validationError(apperr.KindInvalid, err)
		}
		normaliseStrength(&next)
		return next, nil
	})
}

// AddCombinationConfiguration is POST .../combinationConfigurations: the
// configuration gets a new id.
func (s *Service) AddCombinationConfiguration(ctx context.Context, strengthID string, cc policy.CombinationConfiguration) (policy.CombinationConfiguration, error) {
	cc.ID = uuid.NewString()
	_, err := s.editCombinations(ctx, strengthID, func(ccs []policy.CombinationConfiguration) ([]policy.CombinationConfiguration, error) {
		return append(ccs, cc), nil
	})
	if err != nil {
		return policy.CombinationConfiguration{}, err
	}
	cc.ODataType = policy.ODataTypeFido2CombinationConfiguration
	return cc, nil
}

// GetCombinationConfiguration is GET .../combinationConfigurations/{id}.
func (s *Service) GetCombinationConfiguration(ctx context.Context, strengthID, id string) (policy.CombinationConfiguration, error) {
	st, err := s.GetStrength(ctx, strengthID)
	if err != nil {
		return policy.CombinationConfiguration{}, err
	}
	for _, cc := range st.CombinationConfigurations {
		if cc.ID == id {
			return cc, nil
		}
	}
	return policy.CombinationConfiguration{}, errNoCombination(strengthID, id)
}

// UpdateCombinationConfiguration is PATCH .../combinationConfigurations/{id}:
// the patch merges into the configuration; its id and type stay.
func (s *Service) UpdateCombinationConfiguration(ctx context.Context, strengthID, id string, patch []byte) (policy.CombinationConfiguration, error) {
	var out policy.CombinationConfiguration
	_, err := s.editCombinations(ctx, strengthID, func(ccs []policy.CombinationConfiguration) ([]policy.CombinationConfiguration, error) {
		for i, cc := range ccs {
			if cc.ID != id {
				continue
			}
			var next policy.CombinationConfiguration
			if err := mergePatch(cc, patch, &next); err != nil {
				return nil, err
			}
			next.ID, next.ODataType = cc.ID, cc.ODataType
			ccs[i], out = next, next
			return ccs, nil
		}
		return nil, errNoCombination(strengthID, id)
	})
	return out, err
}

// DeleteCombinationConfiguration is DELETE .../combinationConfigurations/{id}.
func (s *Service) DeleteCombinationConfiguration(ctx context.Context, strengthID, id string) error {
	_, err := s.editCombinations(ctx, strengthID, func(ccs []policy.CombinationConfiguration) ([]policy.CombinationConfiguration, error) {
		for i, cc := range ccs {
			if cc.ID == id {
				return append(ccs[:i], ccs[i+1:]...), nil
			}
		}
		return nil, errNoCombination(strengthID, id)
	})
	return err
}
