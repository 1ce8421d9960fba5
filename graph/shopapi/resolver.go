package shopapi

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/order"
	"github.com/shopsession/sessionserver/service/session"
)

// Resolver holds the services the resolvers call. Resolvers map GraphQL to
// service calls and back; rules live in the packages under service/
type Resolver struct {
	Auth     *account.AuthService
	Users    *access.UserService
	Orders   *order.Service
	Accounts *account.Service
	// Sessions serves the caller's own sessions (activeSessions,
	// revokeSession, revokeOtherSessions); Channels resolves their active
	// channels by id.
	Sessions *session.Service
	Channels *access.ChannelService
}

// NewSchema returns the executable schema this server serves: the generated
// one with @allow implemented and without the directives it does not serve
// (gqlutil.ServedSchema).
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r, Schema: gqlutil.ServedSchema(parsedSchema)}
	cfg.Directives.Allow = gqlutil.Allow
	return NewExecutableSchema(cfg)
}
