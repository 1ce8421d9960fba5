package adminapi

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/order"
	"github.com/shopsession/sessionserver/service/session"
)

// Resolver holds the services the resolvers call. Resolvers map GraphQL to
// service calls and back; rules live in the packages under service/
type Resolver struct {
	Auth     *account.AuthService
	Users    *access.UserService
	Sessions *session.Service
	// Channels resolves channels by id (a session's active channel), names
	// the default channel, and serves the channel administration; Roles
	// the role administration.
	Channels *access.ChannelService
	Roles    *access.RoleService
	// Audit reads the audit log.
	Audit *audit.Log
	// Accounts serves the customer administration, Orders the orders of
	// a customer.
	Accounts *account.Service
	Orders   *order.Service
	// Catalog serves the product variants.
	Catalog *catalog.Service
	// Jobs reads the job queue (job, jobs, jobQueues, scheduledTasks);
	// triggerCleanSessionsJob goes through Sessions, as in Vendure.
	Jobs jobs.Queries
	// NowFunc is the clock a running job's duration is measured against:
	// the one that stamps the jobs' times. Defaults to time.Now.
	NowFunc func() time.Time
}

// NewSchema returns the executable schema this server serves: the generated
// one with @allow implemented and without the directives it does not serve
// (gqlutil.ServedSchema).
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r, Schema: gqlutil.ServedSchema(parsedSchema)}
	cfg.Directives.Allow = gqlutil.Allow
	return NewExecutableSchema(cfg)
}
