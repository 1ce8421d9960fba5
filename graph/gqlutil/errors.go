package gqlutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/service"
)

// NewErrorPresenter maps service errors to GraphQL errors with Vendure's
// codes and messages. Anything unknown becomes INTERNAL_SERVER_ERROR with a
// generic message; the real error is logged, never sent (no SQL leaks).
func NewErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var (
			gqlErr   *gqlerror.Error
			notFound *service.ChannelNotFoundError
		)
		switch {
		case errors.Is(err, service.ErrForbidden):
			return coded(ctx, service.MsgForbidden, service.CodeForbidden)
		case errors.As(err, &notFound):
			return coded(ctx, notFound.Error(), service.CodeChannelNotFound)
		case errors.As(err, &gqlErr):
			// gqlgen's own errors (parsing, validation, argument coercion by
			// our unmarshalers): their messages are safe to show.
			return graphql.DefaultErrorPresenter(ctx, err)
		default:
			log.ErrorContext(ctx, "resolver error", "err", err, "path", graphql.GetPath(ctx).String())
			return coded(ctx, service.MsgInternalServerError, service.CodeInternal)
		}
	}
}

func coded(ctx context.Context, msg, code string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    msg,
		Path:       graphql.GetPath(ctx),
		Extensions: map[string]any{"code": code},
	}
}

// NewRecoverFunc logs a resolver panic with its stack and answers with a
// generic INTERNAL_SERVER_ERROR.
func NewRecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("internal panic")
	}
}
