package sessioncache

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ParseRedisURL turns REDIS_URL into options for redis.NewUniversalClient,
// so one setting covers a single node, Sentinel and Cluster:
//
//	redis://[user:pass@]host:6379/0                      one node (rediss:// for TLS)
//	redis://host1:6379?addr=host2:6379&addr=host3:6379    Cluster (several nodes)
//	redis://host:6379?cluster=true                        Cluster behind one endpoint
//	redis://sentinel1:26379?addr=sentinel2:26379&master_name=mymaster   Sentinel
//
// The other query parameters go-redis's ParseURL knows (timeouts, pool
// sizes) apply too. ContextTimeoutEnabled is always on, so the cache's
// operation timeout bounds socket I/O.
func ParseRedisURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	q := u.Query()
	extra := q["addr"]
	master := q.Get("master_name")
	cluster := false
	if v := q.Get("cluster"); v != "" {
		if cluster, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("redis URL: cluster=%q is not a boolean", v)
		}
	}
	q.Del("addr")
	q.Del("master_name")
	q.Del("cluster")
	u.RawQuery = q.Encode()
	opt, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if (len(extra) > 0 || cluster) && master == "" && opt.DB != 0 {
		return nil, fmt.Errorf("redis URL: Redis Cluster has only database 0, not %d", opt.DB)
	}
	return &redis.UniversalOptions{
		Addrs:                 append([]string{opt.Addr}, extra...),
		DB:                    opt.DB,
		Username:              opt.Username,
		Password:              opt.Password,
		TLSConfig:             opt.TLSConfig,
		MasterName:            master,
		IsClusterMode:         cluster,
		DialTimeout:           opt.DialTimeout,
		ReadTimeout:           opt.ReadTimeout,
		WriteTimeout:          opt.WriteTimeout,
		PoolSize:              opt.PoolSize,
		MinIdleConns:          opt.MinIdleConns,
		MaxRetries:            opt.MaxRetries,
		ContextTimeoutEnabled: true,
	}, nil
}
