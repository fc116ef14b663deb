package api

import (
	"net/http"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
)

// App registrations: Application Administrator and Cloud Application
// Administrator manage them; the directory readers may read them.
var (
	appWriters = []string{d.RoleApplicationAdministrator, d.RoleCloudApplicationAdministrator}
	appReaders = append([]string{d.RoleApplicationAdministrator, d.RoleCloudApplicationAdministrator}, directoryReaders...)
)

func appIDParam(r *http.Request) (string, error) {
	id := pathParam(r, "id")
	return id, apps.ValidateID(id)
}

// List applications / servicePrincipals: $filter, $select, $top (a lab
// holds few registrations, so they are filtered in memory).
var (
	applicationsRes = &odata.Resource{Name: "application", Or: true, Select: true, Top: true,
		Filter: []odata.Property{guidProp("id"), {Name: "appId", Type: odata.String, Ops: []string{"eq", "in"}}, strProp("displayName")}}
	servicePrincipalsRes = &odata.Resource{Name: "servicePrincipal", Or: true, Select: true, Top: true,
		Filter: []odata.Property{guidProp("id"), {Name: "appId", Type: odata.String, Ops: []string{"eq", "in"}}, strProp("displayName"), boolProp("accountEnabled")}}
)

// listAllApps pages through a keyset-paged app listing.
func listAllApps[T any](list func(apps.Page) ([]T, error), idOf func(T) string) ([]T, error) {
	return allOf(func(p d.Page) ([]T, error) { return list(apps.Page{Top: p.Top, After: p.After}) }, idOf)
}

// createApplicationRequest is the writable subset of Graph's application.
type createApplicationRequest struct {
	DisplayName            string                        `json:"displayName"`
	Description            string                        `json:"description"`
	SignInAudience         string                        `json:"signInAudience"`
	Web                    *apps.WebApplication          `json:"web"`
	Spa                    *apps.SpaApplication          `json:"spa"`
	PublicClient           *apps.PublicClientApplication `json:"publicClient"`
	IsFallbackPublicClient bool                          `json:"isFallbackPublicClient"`
	RequiredResourceAccess []apps.RequiredResourceAccess `json:"requiredResourceAccess"`
	PasswordCredentials    *[]apps.PasswordCredential    `json:"passwordCredentials"`
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	var req createApplicationRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.PasswordCredentials != nil && len(*req.PasswordCredentials) > 0 {
		writeError(w, r, apperr.Invalid(apps.CodeInvalidCredential, "passwordCredentials cannot be set on create: use addPassword, which generates the secret").WithTarget("passwordCredentials"))
		return
	}
	a := apps.Application{DisplayName: req.DisplayName, Description: req.Description, SignInAudience: req.SignInAudience,
		IsFallbackPublicClient: req.IsFallbackPublicClient, RequiredResourceAccess: req.RequiredResourceAccess}
	if req.Web != nil {
		a.Web = *req.Web
	}
	if req.Spa != nil {
		a.Spa = *req.Spa
	}
	if req.PublicClient != nil {
		a.PublicClient = *req.PublicClient
	}
	out, err := s.deps.Apps.CreateApplication(r.Context(), a)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+out.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, applicationsRes)
	if !ok {
		return
	}
	all, err := listAllApps(func(p apps.Page) ([]apps.Application, error) {
		return s.deps.Apps.Store.ListApplications(r.Context(), p)
	},
		func(a apps.Application) string { return a.ID })
	var page []apps.Application
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: "applications", next: next})
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var a apps.Application
	if err == nil {
		a, err = s.deps.Apps.Store.GetApplication(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type updateApplicationRequest struct {
	DisplayName            *string                        `json:"displayName"`
	Description            *string                        `json:"description"`
	Web                    *apps.WebApplication           `json:"web"`
	Spa                    *apps.SpaApplication           `json:"spa"`
	PublicClient           *apps.PublicClientApplication  `json:"publicClient"`
	IsFallbackPublicClient *bool                          `json:"isFallbackPublicClient"`
	RequiredResourceAccess *[]apps.RequiredResourceAccess `json:"requiredResourceAccess"`
}

func (s *Server) updateApplication(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var req updateApplicationRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Graph answers PATCH on an application with 204 and no body.
	_, err = s.deps.Apps.UpdateApplication(r.Context(), id, apps.ApplicationPatch{
		DisplayName: req.DisplayName, Description: req.Description, Web: req.Web, Spa: req.Spa,
		PublicClient: req.PublicClient, IsFallbackPublicClient: req.IsFallbackPublicClient, RequiredResourceAccess: req.RequiredResourceAccess,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	if err == nil {
		err = s.deps.Apps.Store.DeleteApplication(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// addPassword is Graph's action: {"passwordCredential": {...}}.
func (s *Server) addPassword(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var req struct {
		PasswordCredential *apps.PasswordCredential `json:"passwordCredential"`
	}
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if req.PasswordCredential == nil {
		req.PasswordCredential = &apps.PasswordCredential{}
	}
	c, err := s.deps.Apps.AddPassword(r.Context(), id, *req.PasswordCredential)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) removePassword(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var req struct {
		KeyID string `json:"keyId"`
	}
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err == nil {
		err = s.deps.Apps.RemovePassword(r.Context(), id, req.KeyID)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listServicePrincipals(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, servicePrincipalsRes)
	if !ok {
		return
	}
	all, err := listAllApps(func(p apps.Page) ([]apps.ServicePrincipal, error) {
		return s.deps.Apps.Store.ListServicePrincipals(r.Context(), p)
	}, func(sp apps.ServicePrincipal) string { return sp.ID })
	var page []apps.ServicePrincipal
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: "servicePrincipals", next: next})
}

type createServicePrincipalRequest struct {
	AppID                     string   `json:"appId"`
	AccountEnabled            *bool    `json:"accountEnabled"`
	AppRoleAssignmentRequired bool     `json:"appRoleAssignmentRequired"`
	Tags                      []string `json:"tags"`
}

func (s *Server) createServicePrincipal(w http.ResponseWriter, r *http.Request) {
	var req createServicePrincipalRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	sp, err := s.deps.Apps.CreateServicePrincipal(r.Context(), apps.ServicePrincipal{
		AppID: req.AppID, AccountEnabled: req.AccountEnabled == nil || *req.AccountEnabled,
		AppRoleAssignmentRequired: req.AppRoleAssignmentRequired, Tags: req.Tags,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+sp.ID)
	writeJSON(w, http.StatusCreated, sp)
}

func (s *Server) getServicePrincipal(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var sp apps.ServicePrincipal
	if err == nil {
		sp, err = s.deps.Apps.Store.GetServicePrincipal(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}

type updateServicePrincipalRequest struct {
	AccountEnabled            *bool     `json:"accountEnabled"`
	AppRoleAssignmentRequired *bool     `json:"appRoleAssignmentRequired"`
	Tags                      *[]string `json:"tags"`
}

func (s *Server) updateServicePrincipal(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	var req updateServicePrincipalRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err == nil {
		_, err = s.deps.Apps.UpdateServicePrincipal(r.Context(), id, apps.ServicePrincipalPatch{
			AccountEnabled: req.AccountEnabled, AppRoleAssignmentRequired: req.AppRoleAssignmentRequired, Tags: req.Tags,
		})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteServicePrincipal(w http.ResponseWriter, r *http.Request) {
	id, err := appIDParam(r)
	if err == nil {
		err = s.deps.Apps.DeleteServicePrincipal(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
