package gqlutil

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
)

// HandlerConfig configures the GraphQL handler of one API.
type HandlerConfig struct {
	Schema graphql.ExecutableSchema
	Logger *slog.Logger
	// Title and Endpoint label the playground page.
	Title    string
	Endpoint string
	// Playground serves GraphiQL to browsers on GET.
	Playground bool
	// Introspection allows __schema and __type queries.
	Introspection bool
	// MaxComplexity bounds the complexity of one operation. Defaults to 1000.
	MaxComplexity int
}

// NewHandler returns the GraphQL handler of one API: GET (queries only) and
// POST transports, a parsed-query cache, a complexity limit, the shared error
// presenter and panic handler, and, when enabled, introspection and a
// playground for browsers.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.MaxComplexity <= 0 {
		cfg.MaxComplexity = 1000
	}
	srv := handler.New(cfg.Schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.FixedComplexityLimit(cfg.MaxComplexity))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(NewErrorPresenter(cfg.Logger))
	srv.SetRecoverFunc(NewRecoverFunc(cfg.Logger))
	if !cfg.Playground {
		return srv
	}
	page := playground.Handler(cfg.Title, cfg.Endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("query") == "" &&
			strings.Contains(r.Header.Get("Accept"), "text/html") {
			page.ServeHTTP(w, r)
			return
		}
		srv.ServeHTTP(w, r)
	})
}
