package tracing

import (
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentRedis adds go-redis' tracing hook to client (every node's, for
// a Cluster): a client span per command or pipeline under a request's or
// a job's span (see ChildOnly), named after the command ("get", "evalsha",
// "redis.pipeline set del"), with the server's address. The command's
// arguments (keys, which hold token hashes, and values, which hold
// sessions) are not recorded, nor the caller's source position.
func InstrumentRedis(client redis.UniversalClient, tp trace.TracerProvider) error {
	if err := redisotel.InstrumentTracing(client,
		redisotel.WithTracerProvider(ChildOnly(tp)),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	); err != nil {
		return fmt.Errorf("tracing: redis: %w", err)
	}
	return nil
}
