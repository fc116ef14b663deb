package authenticatorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/virtualauthn"
)

// Handler is the HTTP face of s; every handler decodes, calls one Service
// method and encodes.
func Handler(s *Service) http.Handler {
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.MaxBytesHandler(next, MaxBodyBytes)
	}, loopbackCallersOnly)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	r.Get("/ca.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.CA().RootPEM())
	})
	r.Get("/presets", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"value": virtualauthn.PresetNames()})
	})
	r.Get("/authenticators", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]any{"value": s.List()}) })
	r.Post("/authenticators", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Preset string `json:"preset"`
			Name   string `json:"name"`
		}
		if !decode(w, r, &req) {
			return
		}
		info, err := s.Create(req.Preset, req.Name)
		respond(w, r, http.StatusCreated, info, err)
	})
	r.Get("/authenticators/{id}", func(w http.ResponseWriter, r *http.Request) {
		info, err := s.Get(chi.URLParam(r, "id"))
		respond(w, r, 200, info, err)
	})
	r.Delete("/authenticators/{id}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, http.StatusNoContent, nil, s.Delete(chi.URLParam(r, "id")))
	})
	r.Post("/authenticators/{id}/create", func(w http.ResponseWriter, r *http.Request) {
		var req ceremonyRequest
		if !decode(w, r, &req) {
			return
		}
		out, err := s.CreateCredential(chi.URLParam(r, "id"), req.Options, req.Origin, req.Tamper)
		respond(w, r, 200, json.RawMessage(out), err)
	})
	r.Post("/authenticators/{id}/get", func(w http.ResponseWriter, r *http.Request) {
		var req ceremonyRequest
		if !decode(w, r, &req) {
			return
		}
		out, err := s.GetAssertion(chi.URLParam(r, "id"), req.Options, req.Origin, req.Tamper)
		respond(w, r, 200, json.RawMessage(out), err)
	})
	r.Get("/authenticators/{id}/credentials", func(w http.ResponseWriter, r *http.Request) {
		creds, err := s.Credentials(chi.URLParam(r, "id"))
		if creds == nil {
			creds = []Credential{}
		}
		respond(w, r, 200, map[string]any{"value": creds}, err)
	})
	r.Delete("/authenticators/{id}/credentials/{credentialId}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, http.StatusNoContent, nil, s.DeleteCredential(chi.URLParam(r, "id"), chi.URLParam(r, "credentialId")))
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, fail(404, "notFound", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, fail(405, "methodNotAllowed", "%s is not allowed on %s", r.Method, r.URL.Path))
	})
	return r
}

// ceremonyRequest carries the RP's options as they came (with or without
// the {"publicKey":...} wrapper), the page's origin and what to break.
type ceremonyRequest struct {
	Options json.RawMessage `json:"options"`
	Origin  string          `json:"origin"`
	Tamper  *Tamper         `json:"tamper"`
}

// decode reads one JSON object, refusing unknown fields and trailing data
// (a misspelt tamper knob must not silently make a valid ceremony).
func decode(w http.ResponseWriter, r *http.Request, into any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(into)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, fail(413, "requestTooLarge", "request body larger than %d bytes", MaxBodyBytes))
		} else {
			writeError(w, r, fail(400, "invalidRequest", "request body: %v", err))
		}
		return false
	}
	if ce, ok := into.(*ceremonyRequest); ok && (len(ce.Options) == 0 || bytes.Equal(ce.Options, []byte("null"))) {
		writeError(w, r, fail(400, "optionsRequired", "options is required: the PublicKeyCredentialCreationOptions or RequestOptions JSON the relying party returned"))
		return false
	}
	return true
}

func respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		slog.Error("authenticator service", "method", r.Method, "path", r.URL.Path, "err", err)
		e = fail(500, "internalError", "internal error")
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// loopbackCallersOnly refuses what a web page could send: the listener is
// loopback-only, but a page on another site whose name rebinds to 127.0.0.1
// could still reach it and read assertions for any relying party. Only a
// request naming a loopback host, and carrying no Origin (browsers add one
// to cross-site and scripted requests; curl, load tools and test suites do
// not), is served.
func loopbackCallersOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ip := net.ParseIP(strings.Trim(host, "[]"))
		if !(host == "localhost" || ip != nil && ip.IsLoopback()) || r.Header.Get("Origin") != "" {
			writeJSON(w, http.StatusForbidden, map[string]any{"error": map[string]string{"code": "callerNotLocal",
				"message": "the authenticator service answers local tools only (a loopback Host and no Origin header)"}})
			return
		}
		next.ServeHTTP(w, r)
	})
}
