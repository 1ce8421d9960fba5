package gqlutil_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlscalar"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/outcome"
)

// inFieldContext runs f with the context gqlgen gives a presenter for an
// error of the root field `login` of operation Login, in request req-42
// (its id set by requestctx.Scope, as in production), below parent.
func inFieldContext(parent context.Context, f func(ctx context.Context)) {
	req := httptest.NewRequestWithContext(parent, http.MethodPost, "/shop-api", nil)
	req.Header.Set("X-Request-Id", "req-42")
	requestctx.Scope(time.Minute)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		f(fieldContext(r.Context()))
	})).ServeHTTP(httptest.NewRecorder(), req)
}

func fieldContext(ctx context.Context) context.Context {
	ctx = graphql.WithOperationContext(ctx, &graphql.OperationContext{
		Operation: &ast.OperationDefinition{Name: "Login", Operation: ast.Mutation},
	})
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Name: "login", Alias: "login"}},
	})
}

// wrapped is what gqlgen hands the presenter for a resolver's error: the
// error wrapped in a *gqlerror.Error at the field's path.
func wrapped(ctx context.Context, err error) error {
	return gqlerror.WrapPath(graphql.GetPath(ctx), err)
}

func TestErrorPresenter(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := gqlutil.NewErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()

	e := present(ctx, fmt.Errorf("me: %w", outcome.ErrForbidden))
	require.Equal(t, "You are not currently authorized to perform this action", e.Message)
	require.Equal(t, "FORBIDDEN", e.Extensions["code"])

	e = present(ctx, wrapped(ctx, fmt.Errorf("%w: batchSize must be at most 100000, got 100001", outcome.ErrInvalidInput)))
	require.Equal(t, "batchSize must be at most 100000, got 100001", e.Message, "the sentinel's own words are not the client's")
	require.Equal(t, "USER_INPUT_ERROR", e.Extensions["code"])

	e = present(ctx, wrapped(ctx, fmt.Errorf("list product variants: %w", listquery.Errorf("options.filter.price is not supported"))))
	require.Equal(t, "options.filter.price is not supported", e.Message, "a list's refusal, without its caller's words")
	require.Equal(t, "USER_INPUT_ERROR", e.Extensions["code"])

	e = present(ctx, wrapped(ctx, fmt.Errorf("add item: %w", &outcome.EntityNotFoundError{Entity: "ProductVariant", ID: "42"})))
	require.Equal(t, `No ProductVariant with the id "42" could be found`, e.Message)
	require.Equal(t, "ENTITY_NOT_FOUND", e.Extensions["code"])

	e = present(ctx, &outcome.ChannelNotFoundError{Token: "x"})
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

// gqlgen wraps every resolver error in a *gqlerror.Error before the
// presenter sees it; the wrapper must not make the driver's text safe.
func TestErrorPresenterUnwrapsResolverErrors(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := gqlutil.NewErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
	inFieldContext(context.Background(), func(ctx context.Context) {
		driverErr := errors.New(`login: failed to connect to user=shop database=shop host=10.0.0.7 port=5432: connection refused`)
		e := present(ctx, wrapped(ctx, driverErr))
		require.Equal(t, "Internal server error", e.Message)
		require.Equal(t, "INTERNAL_SERVER_ERROR", e.Extensions["code"])
		require.Equal(t, ast.Path{ast.PathName("login")}, e.Path)
		require.Nil(t, e.Unwrap(), "the driver's error is not carried to the response")

		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		require.Len(t, lines, 1, "logged once")
		require.Contains(t, lines[0], "level=ERROR")
		require.Contains(t, lines[0], "requestId=req-42")
		require.Contains(t, lines[0], "operation=Login")
		require.Contains(t, lines[0], "path=login")
		require.Contains(t, lines[0], "connection refused")

		// Domain errors keep their code through the wrapping.
		e = present(ctx, wrapped(ctx, fmt.Errorf("login: %w", outcome.ErrForbidden)))
		require.Equal(t, "FORBIDDEN", e.Extensions["code"])

		// An argument that failed to coerce is reported at the argument, below
		// the field: its message (written by an unmarshaler for clients) passes.
		argCtx := graphql.WithPathContext(ctx, graphql.NewPathWithField("id"))
		e = present(ctx, graphql.ErrorOnPath(argCtx, errors.New("abc is not a valid ID")))
		require.Equal(t, "id: abc is not a valid ID", e.Message)
		require.Equal(t, "USER_INPUT_ERROR", e.Extensions["code"])

		// The scalars' own refusals are such errors: USER_INPUT_ERROR, in
		// words for clients, never strconv's (gqlgen's Int64 said
		// `strconv.ParseInt: parsing "abc": invalid syntax`).
		for _, in := range []any{"abc", json.Number("99999999999999999999"), json.Number("1.5")} {
			_, err := gqlscalar.UnmarshalMoney(in)
			e = present(ctx, graphql.ErrorOnPath(argCtx, err))
			require.Equal(t, "USER_INPUT_ERROR", e.Extensions["code"])
			require.NotContains(t, e.Message, "strconv")
			require.NotContains(t, e.Message, "parsing")
		}

		// An order whose stored figures are out of range is an error with a
		// fixed message, never a wrapped number or the arithmetic's text.
		logs.Reset()
		e = present(ctx, wrapped(ctx, fmt.Errorf("subTotal: %w: the order total is beyond 9007199254740991 minor units", entity.ErrOutOfRange)))
		require.Equal(t, "USER_INPUT_ERROR", e.Extensions["code"])
		require.True(t, strings.HasPrefix(e.Message, "This order's figures are out of range"), e.Message)
		require.Contains(t, logs.String(), "level=WARN")

		// A panic is logged by the recover func, with its stack, and not again.
		logs.Reset()
		recovered := gqlutil.NewRecoverFunc(slog.New(slog.NewTextHandler(&logs, nil)))(ctx, "boom")
		e = present(ctx, graphql.ErrorOnPath(ctx, recovered))
		require.Equal(t, "INTERNAL_SERVER_ERROR", e.Extensions["code"])
		require.Equal(t, 1, strings.Count(logs.String(), "requestId=req-42"))
		require.Contains(t, logs.String(), "operation=Login")
	})
}

// A resolver that fails because the request's deadline passed answers
// REQUEST_TIMEOUT, logged as a warning with what the resolver said.
func TestErrorPresenterDeadline(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := gqlutil.NewErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	var e *gqlerror.Error
	inFieldContext(expired, func(ctx context.Context) {
		e = present(ctx, wrapped(ctx, fmt.Errorf("insert session: %w", context.DeadlineExceeded)))
	})
	require.Equal(t, "REQUEST_TIMEOUT", e.Extensions["code"])
	require.Equal(t, "The request took too long and was stopped", e.Message)
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "requestId=req-42")
}

// endingExecutor stands in for gqlgen's executor at the moment a request's
// context ends: its response handler ends the context and, as gqlgen's
// does then, returns no response.
type endingExecutor struct{ end func() }

func (e *endingExecutor) CreateOperationContext(context.Context, *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: ast.Query}}, nil
}

func (e *endingExecutor) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return func(context.Context) *graphql.Response { e.end(); return nil }, ctx
}

func (e *endingExecutor) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// A request whose context ends is answered with REQUEST_TIMEOUT and a 503,
// whether it ended before the operation started or while it ran; never with
// an empty body.
func TestTransportAnswersWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	post := func(ctx context.Context, exec graphql.GraphExecutor) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/shop-api", strings.NewReader(`{"query":"{ activeChannel { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		gqlutil.POST{}.Do(w, req, exec)
		return w
	}

	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	w := post(expired, &endingExecutor{end: func() { t.Error("the operation must not start") }})
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.JSONEq(t, `{"errors":[{"message":"The request took too long and was stopped","extensions":{"code":"REQUEST_TIMEOUT"}}],"data":null}`, w.Body.String())

	ctx, cancel := context.WithCancel(context.Background())
	w = post(ctx, &endingExecutor{end: cancel})
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.JSONEq(t, `{"errors":[{"message":"The request was cancelled","extensions":{"code":"REQUEST_TIMEOUT"}}],"data":null}`, w.Body.String())
}
