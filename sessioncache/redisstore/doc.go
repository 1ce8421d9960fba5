// Package redisstore is the Redis strategy of sessioncache: Store, shared by
// every server process (single server, Sentinel or Cluster, through a
// go-redis UniversalClient), with ParseURL for REDIS_URL and Logger for
// go-redis's own log lines. It is a package of its own so that the core
// cache types (sessioncache) compile without go-redis.
package redisstore
