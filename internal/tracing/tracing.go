// Package tracing is rpserver's OpenTelemetry tracing, off by default: when
// an OTLP/HTTP endpoint is configured, every request becomes a trace whose
// spans go from the HTTP route through the services (ceremony, sign-in
// flow, Conditional Access, password hashing) down to each PostgreSQL
// statement (pgx), so a slow percentile under load can be explained: which
// step, which query, how long it waited.
//
// Why the choices:
//
//   - Off means off: no tracer on the pgx pool and no HTTP middleware, and
//     the services' spans go to OpenTelemetry's no-op provider, so the hot
//     path pays nothing measurable when nobody looks.
//   - OTLP over HTTP (protobuf), the exporter every collector, Jaeger and
//     Tempo accept, batched off the request path; a collector that is down
//     costs dropped spans, never a slow sign-in.
//   - Query parameters are never recorded (they carry user ids, hashes and
//     challenges); statements are, as SQL text without values.
//   - W3C trace context is honoured on the way in, so a load generator or an
//     app can join its own trace to the server's.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/exaring/otelpgx"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of rpserver's own spans.
const Name = "github.com/rpserver/rpserver"

// Config of the exporter.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (http://127.0.0.1:4318); spans go
	// to <Endpoint>/v1/traces. Empty: tracing off.
	Endpoint string
	// SampleRatio of new traces kept, 0 < r <= 1; a sampled parent's
	// decision is followed either way.
	SampleRatio float64
	Service     string // service.name; default rpserver
	Version     string // service.version
}

// Start makes the exporting provider and installs it, with the W3C
// propagator, as OpenTelemetry's global (the services' spans use the
// global). The caller must Shutdown it, which flushes what is queued.
func Start(ctx context.Context, c Config) (*sdktrace.TracerProvider, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing: OTLP endpoint %q: want http(s)://host:port, e.g. http://127.0.0.1:4318", c.Endpoint)
	}
	if c.SampleRatio <= 0 || c.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing: sample ratio %g: want 0 < ratio <= 1", c.SampleRatio)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	if c.Service == "" {
		c.Service = "rpserver"
	}
	res := resource.NewSchemaless(attribute.String("service.name", c.Service), attribute.String("service.version", c.Version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))))
	Install(tp)
	return tp, nil
}

// Install makes tp the global provider with the W3C propagator (Start does;
// tests with an in-memory recorder call it directly).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// Tracer is for the services' spans: the global provider's, a no-op until
// Start or Install.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Span starts a span of rpserver's own under ctx; end it with End.
func Span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, trace.WithAttributes(attrs...))
}

// End ends span, marking it failed when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// PGX is the pool's query tracer: a span per statement, batch and connect,
// without query parameters.
func PGX(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
}

// Middleware starts the server span of every request (continuing the
// caller's W3C trace context) and, once chi has routed it, names it by
// route pattern ("POST /webauthn/authentication/finish"), never by the raw
// path, which would carry ids.
func Middleware(tp trace.TracerProvider) func(http.Handler) http.Handler {
	tracer := tp.Tracer(Name)
	prop := otel.GetTextMapPropagator()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.scheme", scheme(r))))
			defer span.End()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r.WithContext(ctx))
			if rc := chi.RouteContext(ctx); rc != nil && rc.RoutePattern() != "" {
				span.SetName(r.Method + " " + rc.RoutePattern())
				span.SetAttributes(attribute.String("http.route", rc.RoutePattern()))
			}
			span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
			if sw.status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(sw.status))
			}
		})
	}
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
