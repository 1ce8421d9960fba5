package gqlutil

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// OperationRecorder receives every GraphQL response of one API, for
// metrics (package internal/metrics implements it, bounding the names it
// keeps). HandlerConfig.Metrics nil records nothing. It is called on the
// request path and must not block.
type OperationRecorder interface {
	// Operation is called once per response. name is the name of the
	// operation the document selected ("" for an anonymous one); selected
	// is false when none was selected: the request was refused before
	// (unreadable, unparsable, invalid, over a limit, or naming an
	// operation its document lacks). The name comes from the parsed
	// document, so it is a GraphQL name, but the client chose it. code is
	// the first error's extensions.code, "" for a response without errors.
	// d is the time since the request reached the GraphQL handler.
	Operation(name string, selected bool, code string, d time.Duration)
}

// metricsExtension passes each response to an OperationRecorder. As a
// response interceptor it sees the responses of executed operations and
// those of requests refused before execution alike (gqlgen's
// DispatchError runs the same interceptors).
type metricsExtension struct {
	rec OperationRecorder
}

var (
	_ graphql.HandlerExtension    = metricsExtension{}
	_ graphql.ResponseInterceptor = metricsExtension{}
)

func (metricsExtension) ExtensionName() string                     { return "Metrics" }
func (metricsExtension) Validate(_ graphql.ExecutableSchema) error { return nil }

func (e metricsExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		// No response (the request ended first): the transport answers
		// REQUEST_TIMEOUT through DispatchError, which is recorded.
		return nil
	}
	// The operation's start is the request's (gqlgen's trace start, which
	// its handler sets on every request); read from the operation context
	// when there is one, as GetStartTime allocates.
	name, selected := "", false
	var start time.Time
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		start = oc.Stats.OperationStart
		if oc.Operation != nil {
			name, selected = oc.Operation.Name, true
		}
	} else {
		start = graphql.GetStartTime(ctx)
	}
	code := ""
	if len(resp.Errors) > 0 {
		code = gqlerr.Code(resp.Errors[0])
	}
	var d time.Duration
	if !start.IsZero() {
		d = graphql.Now().Sub(start)
	}
	e.rec.Operation(name, selected, code, d)
	return resp
}
