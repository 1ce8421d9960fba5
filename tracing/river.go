package tracing

import (
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// RiverMiddleware is River's OpenTelemetry middleware (otelriver) on tp: a
// consumer span per job run, the root of its trace, named
// "river.work/<kind>" with the job's kind, queue, attempt, priority, tags
// and status (never its arguments), and a producer span per insert
// ("river.insert_many"), in the trace of the request or job that enqueued.
// The statements a job sends are its children.
func RiverMiddleware(tp trace.TracerProvider) rivertype.Middleware {
	return otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		EnableWorkSpanJobKindSuffix: true,
		// Traces only: no OpenTelemetry metrics are exported.
		MeterProvider:  metricnoop.NewMeterProvider(),
		TracerProvider: tp,
	})
}
