package gqlutil

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopsession/sessionserver/graph/playground"
)

// HandlerConfig configures the GraphQL handler of one API.
type HandlerConfig struct {
	Schema graphql.ExecutableSchema
	Logger *slog.Logger
	// Title labels the playground page; Endpoint (the API's path) keys its
	// editor state in the browser, so each API keeps its own tabs.
	Title    string
	Endpoint string
	// Playground serves GraphiQL to browsers on GET (package playground;
	// its assets are served by playground.Assets, mounted by the app).
	Playground bool
	// PlaygroundDocument opens the playground's first tab
	// (playground.ShopDocument or playground.AdminDocument).
	PlaygroundDocument string
	// AuthTokenHeader is the response header that carries a new session
	// token in bearer mode, which the playground captures. Defaults to
	// vendure-auth-token.
	AuthTokenHeader string
	// Introspection allows __schema and __type queries; without it an
	// operation that selects them is refused as a validation error.
	Introspection bool
	// Limits bound each document; they are checked before gqlgen parses,
	// validates or runs it. Zero fields take the defaults of Limits.
	Limits Limits
	// Extensions are added after the handler's own (the app's tracing,
	// when it is on). None by default.
	Extensions []graphql.HandlerExtension
	// Persisted says which documents a request may name instead of
	// sending them (automatic persisted queries, registered documents),
	// and whether only registered documents run.
	Persisted Persisted
	// Metrics receives every response (metrics.go). Defaults to none.
	Metrics OperationRecorder
}

// NewHandler returns the GraphQL handler of one API: GET (queries only) and
// POST transports, the persisted documents (which find the document a
// request names first), the document limits, a parsed-query cache bounded
// by the bytes of its queries (QueryCache), the shared error presenter and
// panic handler, and, when enabled, introspection and a playground for
// browsers.
//
// There is no complexity limit: gqlgen's extension.FixedComplexityLimit
// walked every fragment expansion of every request, cached documents
// included, and never finished on a fragment bomb. Without custom complexity
// functions an operation's complexity is its number of selected fields, which
// Limits.MaxFields bounds before validation, in linear time.
func NewHandler(cfg HandlerConfig) http.Handler {
	limits := cfg.Limits.withDefaults()
	srv := handler.New(cfg.Schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(GET{})
	srv.AddTransport(POST{})
	srv.SetQueryCache(NewQueryCache[*ast.QueryDocument](queryCacheBytes))
	// The limits extension parses with the same token limit first; this is
	// gqlgen's own parse, for the documents the extension let through.
	srv.SetParserTokenLimit(limits.MaxTokens)
	// In this order: the limits check the document the request names.
	srv.Use(&persistedExtension{cfg: cfg.Persisted, log: cfg.Logger})
	srv.Use(newLimitsExtension(limits))
	if cfg.Metrics != nil {
		srv.Use(metricsExtension{rec: cfg.Metrics})
	}
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionGuard{})
	}
	for _, ext := range cfg.Extensions {
		srv.Use(ext)
	}
	srv.SetErrorPresenter(NewErrorPresenter(cfg.Logger))
	srv.SetRecoverFunc(NewRecoverFunc(cfg.Logger))
	if !cfg.Playground {
		return srv
	}
	page := playground.Page(playground.Config{
		Title: cfg.Title, Namespace: "sessionserver" + cfg.Endpoint,
		Document: cfg.PlaygroundDocument, AuthTokenHeader: cfg.AuthTokenHeader,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); r.Method == http.MethodGet && q.Get("query") == "" && q.Get("extensions") == "" &&
			!q.Has("documentId") && strings.Contains(r.Header.Get("Accept"), "text/html") {
			page.ServeHTTP(w, r)
			return
		}
		srv.ServeHTTP(w, r)
	})
}
