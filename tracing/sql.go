package tracing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The database attributes of OpenTelemetry's conventions.
const (
	dbSystemKey     = attribute.Key("db.system.name")
	dbOperationKey  = attribute.Key("db.operation.name")
	dbCollectionKey = attribute.Key("db.collection.name")
	dbQueryTextKey  = attribute.Key("db.query.text")
	dbStatusKey     = attribute.Key("db.response.status_code")
	errorTypeKey    = attribute.Key("error.type")
)

// dbSystem is db.system.name of a bun dialect.
func dbSystem(name dialect.Name) string {
	switch name {
	case dialect.PG:
		return "postgresql"
	case dialect.SQLite:
		return "sqlite"
	default:
		return "other_sql"
	}
}

// QueryHook is a bun query hook that puts a client span around each
// statement bun sends (queries, BEGIN, COMMIT, ROLLBACK) under a request's
// or a job's span; outside one it starts none (see ChildOnly).
//
// bun writes argument values into the statement's text, so the text is
// never recorded: a span is named and described by the operation and the
// table alone ("SELECT session", db.operation.name, db.collection.name).
// A failed statement records its error's Go type and SQLSTATE, not its
// message, which may quote a value.
type QueryHook struct {
	tracer trace.Tracer
	system attribute.KeyValue
}

var _ bun.QueryHook = (*QueryHook)(nil)

// NewQueryHook returns the hook for a database of dialect name on tp.
func NewQueryHook(tp trace.TracerProvider, name dialect.Name) *QueryHook {
	return &QueryHook{tracer: Tracer(tp), system: dbSystemKey.String(dbSystem(name))}
}

// querySpanKey carries the span BeforeQuery started to AfterQuery.
type querySpanKey struct{}

// BeforeQuery implements bun.QueryHook.
func (h *QueryHook) BeforeQuery(ctx context.Context, event *bun.QueryEvent) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	op := strings.ToUpper(event.Operation())
	attrs := []attribute.KeyValue{h.system, dbOperationKey.String(op)}
	name := op
	if event.IQuery != nil {
		if table := identifier(event.IQuery.GetTableName()); table != "" {
			name += " " + table
			attrs = append(attrs, dbCollectionKey.String(table))
		}
	}
	ctx, span := h.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, querySpanKey{}, span)
}

// AfterQuery implements bun.QueryHook.
func (h *QueryHook) AfterQuery(ctx context.Context, event *bun.QueryEvent) {
	span, ok := ctx.Value(querySpanKey{}).(trace.Span)
	if !ok {
		return
	}
	endStatement(span, event.Err)
}

// identifier is a table name as bun gives it when it is a plain (possibly
// quoted or schema-qualified) identifier, unquoted, else "": a table
// expression may hold anything, values included.
func identifier(s string) string {
	s = strings.ReplaceAll(s, `"`, "")
	if s == "" || len(s) > 63 {
		return ""
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return s
}

// endStatement records err (unless it is sql.ErrNoRows, a statement's
// normal answer) and ends span.
func endStatement(span trace.Span, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		attrs := []attribute.KeyValue{errorTypeKey.String(fmt.Sprintf("%T", err))}
		var state interface{ SQLState() string }
		if errors.As(err, &state) {
			attrs = append(attrs, dbStatusKey.String(state.SQLState()))
		}
		span.SetAttributes(attrs...)
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// StatementFunc returns a func that traces one statement sent past bun's
// hooks (the session lookup, through database/sql with a bound parameter):
// under a request's or a job's span it starts a client span named
// "<operation> <table>" with the statement's text, which holds
// placeholders and no value (db.query.text), and returns the context to
// run it in and a func that ends the span with the statement's error.
// Outside one it starts nothing.
func StatementFunc(tp trace.TracerProvider, name dialect.Name, operation, table string) func(ctx context.Context, text string) (context.Context, func(error)) {
	t := Tracer(tp)
	attrs := []attribute.KeyValue{
		dbSystemKey.String(dbSystem(name)), dbOperationKey.String(operation), dbCollectionKey.String(table),
	}
	spanName := operation + " " + table
	return func(ctx context.Context, text string) (context.Context, func(error)) {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			return ctx, func(error) {}
		}
		ctx, span := t.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(append(attrs[:len(attrs):len(attrs)], dbQueryTextKey.String(text))...))
		return ctx, func(err error) { endStatement(span, err) }
	}
}
