// Package tracing sends the server's OpenTelemetry traces: the provider that
// exports them over OTLP, and the instrumentation the app installs when
// tracing is on (one span per HTTP request, per GraphQL operation, per root
// field's resolver, per SQL statement, per Redis command and per River job).
//
// Nothing here is installed when tracing is off: app.New wraps no handler,
// adds no hook and no middleware, so the request path is the same as in a
// build without this package. Nothing here is global either: no
// otel.SetTracerProvider, no otel.SetTextMapPropagator; each piece is given
// its provider.
//
// What a span never carries: session tokens (raw or hashed), passwords,
// GraphQL documents or variables, SQL with values (bun statements are
// recorded as operation and table only), Redis arguments (keys or values),
// error messages of the database. docs/tracing.md lists every span and
// attribute.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of the spans this package starts.
const Name = "github.com/shopsession/sessionserver"

// DefaultServiceName is the service.name resource attribute unless
// OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) gives
// another.
const DefaultServiceName = "sessionserver"

// Values of Config.Protocol: OTEL_EXPORTER_OTLP_PROTOCOL's, less
// http/json, which the Go exporters do not send.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Config configures NewProvider.
type Config struct {
	// Endpoint is the collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT),
	// such as http://otel-collector:4318. Over HTTP the traces go to its
	// path /v1/traces, as the OTLP specification says of the base URL;
	// over gRPC to the host and port. An http scheme sends in the clear,
	// https over TLS. Required.
	Endpoint string
	// Protocol is ProtocolHTTP (the default) or ProtocolGRPC.
	Protocol string
}

// NewProvider returns a tracer provider that batches spans to the OTLP
// collector at cfg.Endpoint. It honours the SDK's own variables, read from
// the process environment: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// (the resource), OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and
// _CERTIFICATE (and their _TRACES_ forms), OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG (default: parent-based, always on), OTEL_BSP_*
// (the batch). The endpoint is cfg's: the per-signal
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not read.
//
// Nothing is sent until a span ends, so an unreachable collector does not
// stop the server from starting; exports that fail are retried, then
// dropped. Shutdown flushes what is left (the app calls it on Close).
func NewProvider(ctx context.Context, cfg Config) (*sdktrace.TracerProvider, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("tracing: no endpoint")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch cfg.Protocol {
	case "", ProtocolHTTP:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.Endpoint, "/")+"/v1/traces"))
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
	default:
		return nil, fmt.Errorf("tracing: protocol %q is not %s or %s", cfg.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	// The default name first: the environment's detector, after it,
	// overrides it.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", DefaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
	), nil
}

// propagator reads a request's W3C traceparent/tracestate and baggage
// headers.
var propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{},
)

// Tracer returns the tracer of this package's spans for a client call (a
// statement, a command) on tp: it starts a span only under another one, a
// request's or a job's (see ChildOnly). Nil when tp is nil, tracing off.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return ChildOnly(tp).Tracer(Name)
}
