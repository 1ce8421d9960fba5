package tracing

import (
	"context"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attributes of the GraphQL spans that OpenTelemetry's conventions do not
// name.
const (
	// APIKey is the API of an operation: "shop" or "admin".
	APIKey = attribute.Key("sessionserver.api")
	// ResultKey is an operation's or a root field's outcome: "OK", the
	// extensions.code of its first error (FORBIDDEN,
	// INTERNAL_SERVER_ERROR, …), or the errorCode of the ErrorResult
	// member a mutation answered with (INVALID_CREDENTIALS_ERROR, …).
	ResultKey = attribute.Key("sessionserver.result")
	// The operation's conventional attributes.
	operationNameKey = attribute.Key("graphql.operation.name")
	operationTypeKey = attribute.Key("graphql.operation.type")
	fieldNameKey     = attribute.Key("graphql.field.name")
	fieldParentKey   = attribute.Key("graphql.field.parent_type")
)

// ResultOK is ResultKey's value for an operation or field without error.
const ResultOK = "OK"

// GraphQL is a gqlgen extension that starts a span per operation and per
// resolver of a root field (of Query or Mutation), the fields that do the
// I/O; the fields below them read what those loaded and get none.
//
// The operation's span is named after the operation (its type when it has
// no name) and carries the API, the operation type and name, and the
// result; it starts when gqlgen started reading the operation, so it
// covers parsing and validation. A document refused before it runs
// (unparsable, invalid, over a limit) gets no operation span: the HTTP
// span's status and the response say why. A root field's span is named
// "Query.me", "Mutation.login"… and carries the field and its result.
//
// Neither records the document, the variables or the arguments (a login's
// password is one), nor an error's message: only the code a client sees.
type GraphQL struct {
	// Tracer starts the spans.
	Tracer trace.Tracer
	// API is the value of APIKey.
	API string
}

var (
	_ graphql.HandlerExtension     = GraphQL{}
	_ graphql.OperationInterceptor = GraphQL{}
	_ graphql.FieldInterceptor     = GraphQL{}
)

// ExtensionName implements graphql.HandlerExtension.
func (GraphQL) ExtensionName() string { return "Tracing" }

// Validate implements graphql.HandlerExtension.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// operationKey carries an operation's result to the root fields' spans.
type operationKey struct{}

// operationResult is what a root field reports of an operation's result:
// the first ErrorResult code any of them answered with. Query fields run
// concurrently.
type operationResult struct {
	mu   sync.Mutex
	code string
}

func (o *operationResult) set(code string) {
	o.mu.Lock()
	if o.code == "" {
		o.code = code
	}
	o.mu.Unlock()
}

func (o *operationResult) get() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.code
}

// InterceptOperation implements graphql.OperationInterceptor.
func (g GraphQL) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	typ := string(oc.Operation.Operation)
	name := oc.Operation.Name
	attrs := []attribute.KeyValue{APIKey.String(g.API), operationTypeKey.String(typ)}
	spanName := typ
	if name != "" {
		spanName = name
		attrs = append(attrs, operationNameKey.String(name))
	}
	ctx, span := g.Tracer.Start(ctx, spanName,
		trace.WithTimestamp(oc.Stats.OperationStart), trace.WithAttributes(attrs...))
	result := &operationResult{}
	ctx = context.WithValue(ctx, operationKey{}, result)
	responses := next(ctx)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		// A query or mutation has one response; the span ends with it.
		once.Do(func() {
			code := ResultOK
			switch {
			case resp == nil:
				// gqlgen's executor answers nothing once the request
				// ended; the transport answers REQUEST_TIMEOUT.
				code = "REQUEST_TIMEOUT"
			case len(resp.Errors) > 0:
				code = errorCode(resp.Errors[0].Extensions)
			default:
				if c := result.get(); c != "" {
					code = c
				}
			}
			span.SetAttributes(ResultKey.String(code))
			if code == "INTERNAL_SERVER_ERROR" || code == "REQUEST_TIMEOUT" {
				span.SetStatus(codes.Error, code)
			}
			span.End()
		})
		return resp
	}
}

// InterceptField implements graphql.FieldInterceptor: a span for the
// resolver of each root field.
func (g GraphQL) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || (fc.Object != "Query" && fc.Object != "Mutation") {
		return next(ctx)
	}
	ctx, span := g.Tracer.Start(ctx, fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(fieldNameKey.String(fc.Field.Name), fieldParentKey.String(fc.Object)))
	defer span.End()
	res, err := next(ctx)
	code := ResultOK
	switch {
	case err != nil:
		// The presenter maps err to the code the client gets, on the
		// operation's span; err's own text stays out of the trace.
		code = "ERROR"
		span.SetStatus(codes.Error, "")
	default:
		if c := errorResultCode(res); c != "" {
			code = c
			if result, ok := ctx.Value(operationKey{}).(*operationResult); ok {
				result.set(c)
			}
		}
	}
	span.SetAttributes(ResultKey.String(code))
	return res, err
}

// errorCode is extensions.code of an error, or "ERROR" without one.
func errorCode(ext map[string]any) string {
	if c, ok := ext["code"].(string); ok && c != "" {
		return c
	}
	return "ERROR"
}

// errorResultCode is the errorCode of v when it is an ErrorResult member
// (Vendure's expected outcomes: InvalidCredentialsError, …), else "".
// gqlgen's generated members hold it in an ErrorCode field; the
// hand-written ones return it from an ErrorCode method.
func errorResultCode(v any) string {
	if _, ok := v.(interface{ IsErrorResult() }); !ok {
		return ""
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return ""
	}
	if m := rv.MethodByName("ErrorCode"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 &&
		m.Type().Out(0).Kind() == reflect.String {
		return m.Call(nil)[0].String()
	}
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		if f := rv.FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}
