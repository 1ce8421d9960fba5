package gqlutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/outcome"
)

// msgOutOfRange answers a read of an order whose figures are out of range.
var msgOutOfRange = fmt.Sprintf("This order's figures are out of range: a line price or the total is beyond %d minor units, "+
	"the largest amount this server computes; remove the line that holds them", int64(entity.MaxMoney))

// NewErrorPresenter maps errors to what a client may see.
//
// gqlgen hands the presenter every resolver error wrapped in a
// *gqlerror.Error (Err holds the resolver's error), so the wrapper says
// nothing about whether the text is safe to show. The presenter looks
// inside:
//   - service errors with a Vendure code (FORBIDDEN, CHANNEL_NOT_FOUND,
//     ENTITY_NOT_FOUND) keep their code and message;
//   - a throttled call (outcome.TooManyRequestsError) is TOO_MANY_REQUESTS
//     with extensions.retryAfter (whole seconds, at least 1), and the
//     response gets a Retry-After header of the same value; the HTTP status
//     stays 200, as for every other GraphQL error of an executed operation;
//   - gqlgen's own errors (parsing, validation, the limits, "must not be
//     null"), which wrap nothing, pass as they are;
//   - input coercion errors, which gqlgen attaches below the field, at the
//     argument or input field that failed, keep their message (our
//     unmarshalers, package gqlscalar and the enums', write those for
//     clients), prefixed with that argument's path ("input.firstName: "),
//     and get USER_INPUT_ERROR;
//   - list options a list does not serve (*listquery.Error) are
//     USER_INPUT_ERROR with the refusal's message;
//   - an order figure out of range (entity.ErrOutOfRange) is
//     USER_INPUT_ERROR with a fixed message;
//   - anything else after the request's deadline passed is REQUEST_TIMEOUT;
//   - anything else is INTERNAL_SERVER_ERROR with the message "Internal
//     server error". The real error is logged once, with the request id and
//     the operation name, and never sent (no SQL, hosts or users leak).
func NewErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var (
			gqlErr   *gqlerror.Error
			notFound *outcome.ChannelNotFoundError
			noEntity *outcome.EntityNotFoundError
			tooMany  *outcome.TooManyRequestsError
			panicked *panicError
			listErr  *listquery.Error
		)
		switch {
		case errors.As(err, &tooMany):
			return tooManyRequests(ctx, tooMany)
		case errors.Is(err, outcome.ErrForbidden):
			return coded(ctx, gqlerr.CodeForbidden, gqlerr.MsgForbidden)
		case errors.As(err, &notFound):
			return coded(ctx, gqlerr.CodeChannelNotFound, notFound.Error())
		case errors.As(err, &noEntity):
			return coded(ctx, gqlerr.CodeEntityNotFound, noEntity.Error())
		case errors.As(err, &listErr):
			// List options a list does not serve, in words for the
			// client that name the option.
			return coded(ctx, gqlerr.CodeUserInput, listErr.Error())
		case errors.Is(err, outcome.ErrInvalidInput):
			// A service refused the caller's input, in words written for
			// the client after the sentinel's own ("invalid input: …"),
			// which the client does not need.
			msg := strings.TrimPrefix(cause(err).Error(), outcome.ErrInvalidInput.Error()+": ")
			return coded(ctx, gqlerr.CodeUserInput, msg)
		case errors.Is(err, entity.ErrOutOfRange):
			// An order whose stored figures do not fit (rows from before
			// prices were bounded): an error, never a wrapped number.
			log.WarnContext(ctx, "order figures out of range", logAttrs(ctx, cause(err))...)
			return coded(ctx, gqlerr.CodeUserInput, msgOutOfRange)
		case errors.As(err, &gqlErr) && gqlErr.Err != nil && isInputError(ctx, gqlErr):
			e := graphql.DefaultErrorPresenter(ctx, err)
			// The message names the argument or input field it is about
			// ("input.firstName: …"): a client reads messages, not paths.
			if arg := gqlErr.Path[len(graphql.GetPath(ctx)):].String(); arg != "" && !strings.HasPrefix(e.Message, arg+": ") {
				e.Message = arg + ": " + e.Message
			}
			if gqlerr.Code(e) == "" {
				if e.Extensions == nil {
					e.Extensions = map[string]any{}
				}
				e.Extensions["code"] = gqlerr.CodeUserInput
			}
			return e
		case errors.As(err, &gqlErr) && gqlErr.Err == nil:
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

// tooManyRequests is the error of a throttled field, and asks for its
// Retry-After header.
func tooManyRequests(ctx context.Context, e *outcome.TooManyRequestsError) *gqlerror.Error {
	seconds := e.Seconds()
	if rc := requestctx.FromContext(ctx); rc != nil {
		rc.SetRetryAfter(seconds)
	}
	out := coded(ctx, gqlerr.CodeTooManyRequests, e.Error())
	out.Extensions["retryAfter"] = seconds
	return out
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
