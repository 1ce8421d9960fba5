package gqlutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service"
)

// NewErrorPresenter maps errors to what a client may see.
//
// gqlgen hands the presenter every resolver error wrapped in a
// *gqlerror.Error (Err holds the resolver's error), so the wrapper says
// nothing about whether the text is safe to show. The presenter looks
// inside:
//   - service errors with a Vendure code (FORBIDDEN, CHANNEL_NOT_FOUND) keep
//     their code and message;
//   - a refusal that says when to retry (a RetryAfter() time.Duration
//     method: too many new guest sessions from one address) is
//     TOO_MANY_REQUESTS with extensions.retryAfter in seconds (the
//     request context sends the same as the Retry-After header);
//   - gqlgen's own errors (parsing, validation, the limits, "must not be
//     null"), which wrap nothing, pass as they are, and so do input
//     coercion errors, which gqlgen attaches below the field, at the
//     argument that failed (our unmarshalers write those messages for
//     clients);
//   - anything else after the request's deadline passed is REQUEST_TIMEOUT;
//   - anything else is INTERNAL_SERVER_ERROR with the message "Internal
//     server error". The real error is logged once, with the request id and
//     the operation name, and never sent (no SQL, hosts or users leak).
func NewErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var (
			gqlErr   *gqlerror.Error
			notFound *service.ChannelNotFoundError
			panicked *panicError
			retry    interface{ RetryAfter() time.Duration }
		)
		switch {
		case errors.Is(err, service.ErrForbidden):
			return coded(ctx, gqlerr.CodeForbidden, gqlerr.MsgForbidden)
		case errors.As(err, &notFound):
			return coded(ctx, gqlerr.CodeChannelNotFound, notFound.Error())
		case errors.As(err, &retry):
			e := coded(ctx, gqlerr.CodeTooManyRequests, msgTooManyRequests)
			e.Extensions["retryAfter"] = requestctx.RetryAfterSeconds(retry.RetryAfter())
			return e
		case errors.Is(err, service.ErrInvalidInput):
			// A service refused the caller's input, in words written for
			// the client.
			return coded(ctx, gqlerr.CodeUserInput, cause(err).Error())
		case errors.As(err, &gqlErr) && (gqlErr.Err == nil || isInputError(ctx, gqlErr)):
			return graphql.DefaultErrorPresenter(ctx, err)
		case errors.As(err, &panicked):
			// The recover func logged it, with its stack.
			return coded(ctx, gqlerr.CodeInternal, gqlerr.MsgInternal)
		case ctx.Err() != nil:
			// The deadline passed (or the client left) while a resolver
			// worked; its error is most likely that, but say what it was.
			log.WarnContext(ctx, "request ended during a resolver", logAttrs(ctx, cause(err))...)
			return coded(ctx, gqlerr.CodeRequestTimeout, contextError(ctx).Message)
		default:
			log.ErrorContext(ctx, "internal error", logAttrs(ctx, cause(err))...)
			return coded(ctx, gqlerr.CodeInternal, gqlerr.MsgInternal)
		}
	}
}

// msgTooManyRequests is the message of TOO_MANY_REQUESTS.
const msgTooManyRequests = "Too many requests; try again after the number of seconds in extensions.retryAfter"

// cause is the error gqlgen wrapped, for the log: its wrapper only adds the
// source position.
func cause(err error) error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err != nil {
		return gqlErr.Err
	}
	return err
}

// isInputError reports whether a wrapped error was raised while coercing
// an argument: gqlgen attaches those at the argument's path, below the
// field being resolved, whereas a resolver's error sits at the field.
func isInputError(ctx context.Context, gqlErr *gqlerror.Error) bool {
	return len(gqlErr.Path) > len(graphql.GetPath(ctx))
}

// logAttrs are the attributes of an error's log line: the request id, the
// operation, the field path and the error.
func logAttrs(ctx context.Context, err error) []any {
	return []any{
		"requestId", requestctx.RequestID(ctx),
		"operation", operationName(ctx),
		"path", graphql.GetPath(ctx).String(),
		"err", err,
	}
}

// operationName returns the name of the request's operation: the one the
// client asked for, else the name the document gives it, else "".
func operationName(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.OperationName != "" {
		return opCtx.OperationName
	}
	if opCtx.Operation != nil {
		return opCtx.Operation.Name
	}
	return ""
}

// coded is the error of code and msg at the current field.
func coded(ctx context.Context, code, msg string) *gqlerror.Error {
	e := gqlerr.New(code, msg)
	e.Path = graphql.GetPath(ctx)
	return e
}

// panicError is what NewRecoverFunc returns: the panic is logged already.
type panicError struct{}

func (*panicError) Error() string { return "internal panic" }

// NewRecoverFunc logs a resolver panic with its stack, the request id and
// the operation, and answers with a generic INTERNAL_SERVER_ERROR.
func NewRecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "requestId", requestctx.RequestID(ctx), "operation", operationName(ctx),
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &panicError{}
	}
}
