package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/internal/tracing"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// TestTraceFromHTTPThroughServicesToSQL signs users in against the real
// server with tracing on and checks one sign-in's trace: the route span,
// the ceremony's span under it, and the PostgreSQL statements under that.
func TestTraceFromHTTPThroughServicesToSQL(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracing.Install(tp)
	srv := servertest.New(t, server.Config{TracerProvider: tp})
	sessions := func(_ context.Context, u loadgen.User) (string, error) {
		return srv.Issuer.Mint(tokens.Claims{UPN: u.UserPrincipalName, AMR: []string{"temporaryAccessPassOneTime"},
			Data: signin.PortalSessionData(policy.ModeTemporaryAccessPassOneTime)}.WithSubject(u.ID), tokens.AudienceSession, time.Hour)
	}
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Target: srv.URL, Origin: srv.Config.Origins[0], AdminToken: srv.AdminToken(t),
		Users: 1, Concurrency: 1, SignIns: 2, Sessions: sessions})
	if err != nil || rep.SignIn.Op(loadgen.OpSignIn).Count != 2 {
		t.Fatalf("load: %v %+v", err, rep)
	}

	spans := rec.Ended()
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID().String()] = s
	}
	// under reports whether s descends from ancestor.
	under := func(s, ancestor sdktrace.ReadOnlySpan) bool {
		for p := s.Parent(); p.IsValid(); {
			if p.SpanID() == ancestor.SpanContext().SpanID() {
				return true
			}
			ps, ok := byID[p.SpanID().String()]
			if !ok {
				return false
			}
			p = ps.Parent()
		}
		return false
	}
	var finish sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "POST /webauthn/authentication/finish" {
			finish = s
		}
	}
	if finish == nil {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name())
		}
		t.Fatalf("no route span for the finish; spans: %v", names)
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() == finish.SpanContext().TraceID() {
			t.Logf("%-45s %8s", s.Name(), s.EndTime().Sub(s.StartTime()).Round(time.Microsecond))
		}
	}
	var service, decide, sql int
	for _, s := range spans {
		if s.SpanContext().TraceID() != finish.SpanContext().TraceID() || s.Name() != "signin.Passkey" || !under(s, finish) {
			continue
		}
		service++
		for _, q := range spans {
			switch {
			case isSQL(q) && under(q, s):
				sql++
			case q.Name() == "signin.decide" && under(q, s):
				decide++
			}
		}
	}
	// The hot path's round trips (take the challenge with the facts, when
	// the server has no copies of them yet; commit the counter with the log
	// record, which the sign-in that leads the group commit carries) are
	// statements under the service span, and Conditional Access (decide)
	// is too.
	if service != 1 || decide != 1 || sql == 0 {
		t.Fatalf("finish trace: %d sign-in service spans, %d decide spans and %d statements under it", service, decide, sql)
	}
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if strings.Contains(string(a.Key), "args") || strings.Contains(string(a.Key), "parameter") {
				t.Fatalf("span %s records query parameters: %v", s.Name(), a)
			}
		}
	}

	// A caller's W3C trace context is continued.
	req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	found := false
	for _, s := range rec.Ended() {
		if s.Name() == "GET /healthz" && s.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736" {
			found = true
		}
	}
	if !found {
		t.Fatal("the traceparent's trace was not continued")
	}
}

func isSQL(s sdktrace.ReadOnlySpan) bool {
	for _, a := range s.Attributes() {
		if a.Key == "db.system" || a.Key == "db.system.name" {
			return true
		}
	}
	return false
}

// TestStartExportsOverOTLPHTTP: Start's exporter posts protobuf OTLP to
// <endpoint>/v1/traces, which a collector decodes.
func TestStartExportsOverOTLPHTTP(t *testing.T) {
	var mu sync.Mutex
	var names []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", 400)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	defer collector.Close()
	for _, bad := range []tracing.Config{{Endpoint: "127.0.0.1:4318", SampleRatio: 1}, {Endpoint: collector.URL, SampleRatio: 0}, {Endpoint: collector.URL, SampleRatio: 2}} {
		if _, err := tracing.Start(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	tp, err := tracing.Start(context.Background(), tracing.Config{Endpoint: collector.URL, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracing.Span(context.Background(), "export-check")
	span.End()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = tp.Shutdown(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(names) != 1 || names[0] != "export-check" {
		t.Fatalf("collector got %v", names)
	}
}
