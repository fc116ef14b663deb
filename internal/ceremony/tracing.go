package ceremony

import "go.opentelemetry.io/otel"

// tracer is a no-op until rpserver serve is started with an OTLP endpoint
// (internal/tracing installs the global provider).
var tracer = otel.Tracer("github.com/rpserver/rpserver/internal/ceremony")
