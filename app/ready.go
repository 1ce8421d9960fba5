package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/migrations"
)

// readyCacheTimeout bounds /ready's PING of Redis. A Redis that does not
// answer leaves the server serving from the database, so the probe need
// not wait for it long.
const readyCacheTimeout = 500 * time.Millisecond

// Values of readiness's fields.
const (
	readyOK       = "ok"
	readyError    = "error"
	readyDraining = "draining"
	readyDown     = "down"
	readyPending  = "pending"
	readyDegraded = "degraded"
)

// readiness is /ready's answer.
type readiness struct {
	// Status is "ok" (200), "error" (503: Database or Migrations say why)
	// or "draining" (503: the server is shutting down, see Drain).
	Status string `json:"status"`
	// Database is "ok", or "down" when it did not answer a ping.
	Database string `json:"database,omitempty"`
	// Migrations is "ok" when this build's newest migration is recorded as
	// applied, "pending" when it is not, "error" when the database did not
	// say; absent when the database is down.
	Migrations string `json:"migrations,omitempty"`
	// Cache is "ok", or "degraded" when Redis did not answer a PING or the
	// session cache is out of use after failures: requests are served from
	// the database meanwhile, and the throttles count in this instance's
	// memory, so the server is ready all the same.
	Cache string `json:"cache,omitempty"`
}

// Drain makes /ready answer 503 {"status":"draining"} from now on, while
// every other request is served as before: a load balancer that probes
// /ready stops sending new requests before the server shuts down.
// server.go calls it on SIGTERM or SIGINT.
func (a *App) Drain() { a.draining.Store(true) }

// ready answers whether this instance should get traffic: 200 when the
// database answers and has this build's newest migration, 503 otherwise
// and while draining. The cache never makes it 503: without Redis the
// server serves correctly from the database, so an instance whose Redis
// is gone stays in the pool, "degraded". Each check is bounded.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if a.draining.Load() {
		writeReadiness(w, http.StatusServiceUnavailable, readiness{Status: readyDraining})
		return
	}
	ctx := r.Context()
	cache := make(chan string, 1)
	go func() { cache <- a.cacheReadiness(ctx) }()
	rd := readiness{Status: readyOK}
	rd.Database, rd.Migrations = a.databaseReadiness(ctx)
	rd.Cache = <-cache
	code := http.StatusOK
	if rd.Database != readyOK || rd.Migrations != readyOK {
		rd.Status, code = readyError, http.StatusServiceUnavailable
	}
	writeReadiness(w, code, rd)
}

func writeReadiness(w http.ResponseWriter, code int, rd readiness) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(rd)
}

// readyPingAttempts bounds pingDatabase's attempts.
const readyPingAttempts = 3

// pingDatabase reports whether the database answers a ping. A connection
// the pool kept from before an outage fails once and is discarded, so a
// failed ping is tried again on another (at most readyPingAttempts in all,
// within ctx): a database that is back is not reported down for the pool's
// leftovers.
func (a *App) pingDatabase(ctx context.Context) bool {
	for range readyPingAttempts {
		if a.DB.PingContext(ctx) == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return false
}

// databaseReadiness pings the database and looks for this build's newest
// migration, within /health's bound.
func (a *App) databaseReadiness(ctx context.Context) (database, migrated string) {
	ctx, cancel := context.WithTimeout(ctx, min(healthTimeout, a.Config.DBQueryTimeout))
	defer cancel()
	if !a.pingDatabase(ctx) {
		return readyDown, ""
	}
	switch applied, err := migrations.Applied(ctx, a.DB, a.newestMigration); {
	case err != nil:
		return readyOK, readyError
	case !applied:
		return readyOK, readyPending
	}
	return readyOK, readyOK
}

// cacheReadiness PINGs Redis, if the server uses it, within
// readyCacheTimeout, and asks the session service whether it uses its
// cache.
func (a *App) cacheReadiness(ctx context.Context) string {
	if !a.Sessions.CacheTrusted() {
		return readyDegraded
	}
	if a.redis == nil {
		return readyOK
	}
	ctx, cancel := context.WithTimeout(ctx, readyCacheTimeout)
	defer cancel()
	if err := a.redis.Ping(ctx).Err(); err != nil {
		return readyDegraded
	}
	return readyOK
}

// warnIfSuperuser logs one warning when db is a PostgreSQL database
// connected as a superuser: the server needs none of a superuser's powers
// (docs/postgres-role.md). Not knowing is not worth a line.
func warnIfSuperuser(ctx context.Context, db *bun.DB, log *slog.Logger) {
	if db.Dialect().Name() != dialect.PG {
		return
	}
	var role struct {
		Name  string `bun:"rolname"`
		Super bool   `bun:"rolsuper"`
	}
	if err := db.NewRaw("SELECT rolname, rolsuper FROM pg_roles WHERE rolname = current_user").Scan(ctx, &role); err != nil {
		return
	}
	if role.Super {
		log.Warn("connected to PostgreSQL as a superuser; use a role of its own without superuser rights (docs/postgres-role.md)",
			"role", role.Name)
	}
}
