package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ChildOnly wraps tp so that its tracers start a span only when the context
// already holds one (a request's or a job's) and otherwise start nothing,
// returning the context as it is and a span that records nothing.
//
// The client calls (SQL statements, Redis commands) go through it: the
// background loops (the cache sync, the usage writer, the memory tier's
// listener) send statements and commands every second or so with no
// request behind them, and each would otherwise be a trace of its own, one
// span long.
func ChildOnly(tp trace.TracerProvider) trace.TracerProvider {
	if c, ok := tp.(childOnlyProvider); ok {
		return c
	}
	return childOnlyProvider{tp: tp}
}

type childOnlyProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: p.tp.Tracer(name, opts...)}
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		// The context's span: none, so a no-op span.
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.t.Start(ctx, name, opts...)
}
