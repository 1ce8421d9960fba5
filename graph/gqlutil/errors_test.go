package gqlutil_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/service"
)

func TestErrorPresenter(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := gqlutil.NewErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()

	e := present(ctx, fmt.Errorf("me: %w", service.ErrForbidden))
	require.Equal(t, "You are not currently authorized to perform this action", e.Message)
	require.Equal(t, "FORBIDDEN", e.Extensions["code"])

	e = present(ctx, &service.ChannelNotFoundError{Token: "x"})
	require.Equal(t, `No Channel with the token "x" could be found`, e.Message)
	require.Equal(t, "CHANNEL_NOT_FOUND", e.Extensions["code"])

	// An internal error never reaches the client, but is logged.
	sqlErr := errors.New(`find session: pq: relation "session" does not exist`)
	e = present(ctx, sqlErr)
	require.Equal(t, "Internal server error", e.Message)
	require.Equal(t, "INTERNAL_SERVER_ERROR", e.Extensions["code"])
	require.Contains(t, logs.String(), `relation \"session\" does not exist`)

	// gqlgen's own errors pass through.
	e = present(ctx, &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}})
	require.Equal(t, "Cannot query field", e.Message)

	// A panic becomes a generic internal error.
	recovered := gqlutil.NewRecoverFunc(slog.New(slog.NewTextHandler(&logs, nil)))(ctx, "boom: secret detail")
	e = present(graphql.WithFieldContext(ctx, &graphql.FieldContext{}), recovered)
	require.Equal(t, "Internal server error", e.Message)
	require.NotContains(t, e.Message, "secret")
	require.Contains(t, logs.String(), "boom: secret detail")
}
