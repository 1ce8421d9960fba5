package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisOptions is a REDIS_URL parsed by go-redis's own URL parsers.
// Exactly one field is set, and NewClient makes the matching client.
type RedisOptions struct {
	Single   *redis.Options         // from redis.ParseURL
	Cluster  *redis.ClusterOptions  // from redis.ParseClusterURL
	Failover *redis.FailoverOptions // from redis.ParseFailoverURL (Sentinel)
}

// ParseRedisURL turns REDIS_URL into client options, so one setting covers
// a single node, Sentinel and Cluster:
//
//	redis://[user:pass@]host:6379/0                       one node (rediss:// for TLS)
//	redis://host1:6379?addr=host2:6379&addr=host3:6379     Cluster (several nodes)
//	redis://host:6379?cluster=true                         Cluster behind one endpoint
//	redis://sentinel1:26379/0?addr=sentinel2:26379&master_name=mymaster   Sentinel
//
// The URL goes to go-redis's parser for its form (redis.ParseURL,
// redis.ParseClusterURL, redis.ParseFailoverURL), so every query parameter
// that parser knows applies (dial_timeout, read_timeout, pool_timeout,
// conn_max_idle_time, max_retries, client_name, protocol, pool_size …;
// skip_verify except on a cluster, whose parser lacks it) and an unknown
// one is an error. On top of those:
//   - cluster=true makes the Cluster form with one address (a cluster's
//     configuration endpoint), as go-redis's UniversalOptions.IsClusterMode.
//   - context_timeout_enabled is always on, so that the cache's operation
//     timeout bounds socket I/O (see redisstore.Store); the parameter may
//     say true, and saying false is an error.
//   - In the Sentinel form the user info is the master's credentials, as in
//     the other forms and as REDIS_URL has always meant, unless the query
//     sets username= or password=: then those are the master's and the user
//     info is the sentinels', as go-redis reads it.
//   - A Cluster has only database 0, so another in the path is an error.
//   - Options that read from replicas (read_only, route_by_latency,
//     route_randomly, replica_only) are refused: a replica may not have a
//     tombstone yet, and would answer a revoked session.
//
// Validate checks REDIS_URL with it, and the server connects with what it
// returns, so a URL that validates is one that connects: the rules are
// go-redis's and these, in one place.
//
// No error message contains the URL, so none contains its password.
func ParseRedisURL(raw string) (*RedisOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// A *url.Error quotes the whole URL; its cause does not.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	// go-redis's errors quote a bad query value (an addr=, a duration), so
	// a password typed in the wrong place would be quoted too.
	secrets := []string{u.Query().Get("password")}
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	o, err := parseRedisURL(u)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", redactSecrets(err, secrets))
	}
	return o, nil
}

// redactSecrets returns err, or if its message contains one of the
// (non-empty) secrets, an error with the same message with each of them
// replaced by "xxxxx", as (*url.URL).Redacted writes a password.
func redactSecrets(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// parseRedisURL takes our own parameters out of u's query, then hands the
// rest to go-redis's parser for the form they select.
func parseRedisURL(u *url.URL) (*RedisOptions, error) {
	q := u.Query()
	cluster, err := takeBool(q, "cluster", false)
	if err != nil {
		return nil, err
	}
	if on, err := takeBool(q, "context_timeout_enabled", true); err != nil {
		return nil, err
	} else if !on {
		return nil, errors.New("context_timeout_enabled=false is not supported: the cache's operation timeout needs it")
	}
	u.RawQuery = q.Encode()

	switch {
	case q.Has("master_name"):
		if cluster {
			return nil, errors.New("cluster=true and master_name cannot be combined")
		}
		if q.Get("master_name") == "" {
			return nil, errors.New("master_name is empty (the name the sentinels monitor the master under)")
		}
		return parseFailover(u, q.Has("username") || q.Has("password"))
	case cluster || q.Has("addr"):
		return parseCluster(u)
	default:
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		return &RedisOptions{Single: o}, nil
	}
}

func parseCluster(u *url.URL) (*RedisOptions, error) {
	// ParseClusterURL ignores the path; the single-node parser reads the
	// database number from it (and refuses a malformed one).
	base := *u
	base.RawQuery = ""
	if single, err := redis.ParseURL(base.String()); err != nil {
		return nil, err
	} else if single.DB != 0 {
		return nil, fmt.Errorf("Redis Cluster has only database 0, not %d", single.DB)
	}
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, err
	}
	if o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
		return nil, errors.New("read_only, route_by_latency and route_randomly read from replicas, which may answer a revoked session: leave them out")
	}
	o.ContextTimeoutEnabled = true
	return &RedisOptions{Cluster: o}, nil
}

// parseFailover parses the Sentinel form; masterCredsInQuery says whether
// the query names the master's credentials (see ParseRedisURL).
func parseFailover(u *url.URL, masterCredsInQuery bool) (*RedisOptions, error) {
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, err
	}
	if o.RouteByLatency || o.RouteRandomly || o.ReplicaOnly {
		return nil, errors.New("route_by_latency, route_randomly and replica_only read from replicas, which may answer a revoked session: leave them out")
	}
	if !masterCredsInQuery {
		o.Username, o.Password = o.SentinelUsername, o.SentinelPassword
		o.SentinelUsername, o.SentinelPassword = "", ""
	}
	o.ContextTimeoutEnabled = true
	return &RedisOptions{Failover: o}, nil
}

// takeBool removes the parameter name from q and returns its value, or def
// if it is absent or empty.
func takeBool(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	q.Del(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not a boolean", name, v)
	}
	return b, nil
}

// NewClient returns a new client for the options: a *redis.Client for a
// single node or Sentinel (a failover client), a *redis.ClusterClient for a
// cluster. The caller closes it.
func (o *RedisOptions) NewClient() redis.UniversalClient {
	switch {
	case o.Cluster != nil:
		return redis.NewClusterClient(o.Cluster)
	case o.Failover != nil:
		return redis.NewFailoverClient(o.Failover)
	default:
		return redis.NewClient(o.Single)
	}
}

// Addrs returns the addresses the client starts from (the sentinels' for
// Sentinel), for messages.
func (o *RedisOptions) Addrs() []string {
	switch {
	case o.Cluster != nil:
		return o.Cluster.Addrs
	case o.Failover != nil:
		return o.Failover.SentinelAddrs
	default:
		return []string{o.Single.Addr}
	}
}
