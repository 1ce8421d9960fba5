package tracing

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A client call outside any span starts none; under one it is a child.
func TestChildOnly(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := Tracer(tp)

	ctx, span := tracer.Start(context.Background(), "background")
	require.Equal(t, context.Background(), ctx)
	require.False(t, span.IsRecording())
	span.End()
	require.Empty(t, spans.GetSpans())

	pctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	_, child := tracer.Start(pctx, "SELECT session")
	child.End()
	parent.End()
	got := spans.GetSpans()
	require.Len(t, got, 2)
	require.Equal(t, parent.SpanContext().SpanID(), got[0].Parent.SpanID())

	require.Nil(t, Tracer(nil), "tracing off")
}

// Only plain identifiers name a span's table: a table expression may
// hold a value.
func TestIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`session`:                    "session",
		`"user"`:                     "user",
		`public.session`:             "public.session",
		`session AS s`:               "",
		`(SELECT 'secret') AS t`:     "",
		``:                           "",
		`"river_job"`:                "river_job",
		`x'; DROP TABLE session; --`: "",
	} {
		require.Equal(t, want, identifier(in), "%q", in)
	}
}

type generatedMember struct{ ErrorCode string }

func (generatedMember) IsErrorResult() {}

type handWrittenMember struct{}

type code string

func (*handWrittenMember) ErrorCode() code { return "INVALID_CREDENTIALS_ERROR" }
func (*handWrittenMember) IsErrorResult()  {}

type success struct{ ErrorCode string }

// The errorCode of an ErrorResult member, whichever way it holds it, and
// nothing of any other result.
func TestErrorResultCode(t *testing.T) {
	t.Parallel()
	require.Equal(t, "NOT_VERIFIED_ERROR", errorResultCode(&generatedMember{ErrorCode: "NOT_VERIFIED_ERROR"}))
	require.Equal(t, "NOT_VERIFIED_ERROR", errorResultCode(generatedMember{ErrorCode: "NOT_VERIFIED_ERROR"}))
	require.Equal(t, "INVALID_CREDENTIALS_ERROR", errorResultCode(&handWrittenMember{}))
	require.Empty(t, errorResultCode((*generatedMember)(nil)))
	require.Empty(t, errorResultCode(&success{ErrorCode: "X"}))
	require.Empty(t, errorResultCode(nil))
	require.Empty(t, errorResultCode(42))
}
