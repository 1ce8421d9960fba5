// Package gqlutil holds what both GraphQL APIs share: the @allow directive,
// the error presenter, the panic handler and the handler builder.
package gqlutil

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Allow implements @allow(permissions: [...]) for both APIs (Vendure's
// AuthGuard decision). A field that allows Owner gets an anonymous session
// when the request has none. A refusal is the FORBIDDEN error.
func Allow(ctx context.Context, _ any, next graphql.Resolver, permissions []auth.Permission) (any, error) {
	rc := requestctx.FromContext(ctx)
	if rc == nil {
		return nil, outcome.ErrForbidden
	}
	var granted auth.Granted
	if s := rc.Session(); s != nil {
		granted = s.PermissionsOn(rc.ChannelID())
	}
	authorized := auth.AnyOf(granted, permissions)
	switch auth.Decide(granted, permissions) {
	case auth.Allowed:
		return next(requestctx.WithFieldAuth(ctx, authorized, false))
	case auth.AllowedAsOwner:
		if _, err := rc.EnsureSession(ctx); err != nil {
			return nil, err
		}
		return next(requestctx.WithFieldAuth(ctx, false, true))
	default:
		return nil, outcome.ErrForbidden
	}
}
