// Package redisstore is the Redis strategy of sessioncache: Store, shared by
// every server process (single server, Sentinel or Cluster, through a
// go-redis UniversalClient), and Tiered, a process's sessioncache.Memory in
// front of a Store, kept current by the announcements every Store makes
// over Redis pub/sub; with Logger for go-redis's own log lines. It is a
// package of its own so that the core cache types (sessioncache) compile
// without go-redis.
package redisstore
