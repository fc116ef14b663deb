package api

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
	d "github.com/rpserver/rpserver/internal/directory"
)

// App registrations: Application Administrator and Cloud Application
// Administrator manage them; the directory readers may read them.
var (
	appWriters = []string{d.RoleApplicationAdministrator, d.RoleCloudApplicationAdministrator}
	appReaders = append([]string{d.RoleApplicationAdministrator, d.RoleCloudApplicationAdministrator}, directoryReaders...)
)

func appIDParam(r *http.Request) (string, error) {
	id := chi.URLParam(r, "id")
	return id, apps.ValidateID(id)
}

func appPage(r *http.Request) (apps.Page, error) {
	p, err := pageOf(r)
	return apps.Page{Top: p.Top, After: p.After}, err
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
	p, err := appPage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.deps.Apps.Store.ListApplications(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, directoryPage(p), func(a apps.Application) string { return a.ID })
}

func directoryPage(p apps.Page) d.Page { return d.Page{Top: p.Top, After: p.After} }

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
	p, err := appPage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.deps.Apps.Store.ListServicePrincipals(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, directoryPage(p), func(sp apps.ServicePrincipal) string { return sp.ID })
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
