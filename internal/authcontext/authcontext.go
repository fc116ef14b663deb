// Package authcontext owns Graph's authenticationContextClassReference: the
// tenant's authentication contexts (c1..c99), which Conditional Access
// policies target (conditions.applications.includeAuthenticationContextClassReferences)
// and apps ask for with acr_values or a claims challenge before a sensitive
// action. Graph creates and updates one with the same call, PATCH on its id.
package authcontext

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
)

// Context is Graph's authenticationContextClassReference.
type Context struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsAvailable bool   `json:"isAvailable"`
}

// Patch holds what a PATCH sets; nil means unchanged (or, on create, the
// default: empty description, not available).
type Patch struct {
	DisplayName *string `json:"displayName"`
	Description *string `json:"description"`
	IsAvailable *bool   `json:"isAvailable"`
}

// Store persists the contexts; Get and Delete answer NotFound for unknown ids.
type Store interface {
	GetAuthenticationContext(ctx context.Context, id string) (Context, error)
	PutAuthenticationContext(ctx context.Context, c Context) error
	ListAuthenticationContexts(ctx context.Context) ([]Context, error)
	DeleteAuthenticationContext(ctx context.Context, id string) error
}

// Stable codes.
const (
	CodeInvalidID          = "invalidAuthenticationContextId"
	CodeInvalidDisplayName = "invalidDisplayName"
)

// Service validates changes.
type Service struct{ Store Store }

// ValidateID accepts c1 to c99, as Entra does.
func ValidateID(id string) error {
	if !policy.ValidAuthContextID(id) {
		return apperr.Invalid(CodeInvalidID, "an authentication context id is c1 to c99, not %q", id).WithTarget("id")
	}
	return nil
}

// Put creates the context or updates the given properties (Graph's PATCH);
// created says which.
func (s *Service) Put(ctx context.Context, id string, p Patch) (Context, bool, error) {
	if err := ValidateID(id); err != nil {
		return Context{}, false, err
	}
	cur, err := s.Store.GetAuthenticationContext(ctx, id)
	created := false
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		cur, created, err = Context{ID: id}, true, nil
	}
	if err != nil {
		return Context{}, false, err
	}
	if p.DisplayName != nil {
		cur.DisplayName = *p.DisplayName
	}
	if p.Description != nil {
		cur.Description = *p.Description
	}
	if p.IsAvailable != nil {
		cur.IsAvailable = *p.IsAvailable
	}
	if strings.TrimSpace(cur.DisplayName) == "" || utf8.RuneCountInString(cur.DisplayName) > 256 || utf8.RuneCountInString(cur.Description) > 1024 {
		return Context{}, false, apperr.Invalid(CodeInvalidDisplayName, "displayName is required (1 to 256 characters); description is at most 1024").WithTarget("displayName")
	}
	if err := s.Store.PutAuthenticationContext(ctx, cur); err != nil {
		return Context{}, false, err
	}
	return cur, created, nil
}

// Get reads one context.
func (s *Service) Get(ctx context.Context, id string) (Context, error) {
	if err := ValidateID(id); err != nil {
		return Context{}, err
	}
	return s.Store.GetAuthenticationContext(ctx, id)
}

// Delete removes one context.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	return s.Store.DeleteAuthenticationContext(ctx, id)
}
