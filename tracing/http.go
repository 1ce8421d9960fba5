package tracing

import (
	"net/http"
	"slices"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// HTTPConfig configures Handler.
type HTTPConfig struct {
	// Routes are the paths a span is named after ("POST /shop-api"); a
	// request to any other path gets a span named after its method alone,
	// so a client cannot make up span names.
	Routes []string
	// Untraced are paths whose requests get no span (the health probe's).
	Untraced []string
}

// Handler wraps h in otelhttp's server span, one per request: a request
// carrying a W3C traceparent continues that trace, and its baggage rides
// in the context. The span has OpenTelemetry's HTTP server attributes
// (method, path, status, peer and client address, user agent, sizes); it
// records no header, cookie, query string or body.
func Handler(h http.Handler, tp trace.TracerProvider, cfg HTTPConfig) http.Handler {
	return otelhttp.NewHandler(h, "",
		otelhttp.WithTracerProvider(tp),
		// Traces only: no OpenTelemetry metrics are exported.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return !slices.Contains(cfg.Untraced, r.URL.Path) }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			method := r.Method
			switch method {
			case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead:
			default:
				method = "HTTP"
			}
			if slices.Contains(cfg.Routes, r.URL.Path) {
				return method + " " + r.URL.Path
			}
			return method
		}),
	)
}
