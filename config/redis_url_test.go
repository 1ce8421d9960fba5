package config_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
)

// Each URL form gives exactly the options go-redis's parser for that form
// gives, plus ContextTimeoutEnabled, and the client that goes with them.
func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url string
		want      config.RedisOptions
		client    redis.UniversalClient // the type NewClient returns
	}{{
		name: "Single",
		url:  "redis://user:secret@cache.internal:6380/3",
		want: config.RedisOptions{Single: &redis.Options{
			Network: "tcp", Addr: "cache.internal:6380", DB: 3, Username: "user", Password: "secret",
			ContextTimeoutEnabled: true,
		}},
		client: &redis.Client{},
	}, {
		name: "SingleDefaults",
		url:  "redis://",
		want: config.RedisOptions{Single: &redis.Options{
			Network: "tcp", Addr: "localhost:6379", ContextTimeoutEnabled: true,
		}},
		client: &redis.Client{},
	}, {
		name: "SingleTLS",
		url:  "rediss://cache:6379?skip_verify=true",
		want: config.RedisOptions{Single: &redis.Options{
			Network: "tcp", Addr: "cache:6379", ContextTimeoutEnabled: true,
			TLSConfig: &tls.Config{ServerName: "cache", MinVersion: tls.VersionTLS12, InsecureSkipVerify: true},
		}},
		client: &redis.Client{},
	}, {
		// Every one of these was dropped before go-redis parsed the URL itself.
		name: "SingleOptions",
		url: "redis://cache:6379/1?pool_timeout=2s&conn_max_idle_time=5m&client_name=shop&protocol=2" +
			"&dial_timeout=3&read_timeout=250ms&write_timeout=-1&max_retries=5&pool_size=20" +
			"&min_idle_conns=2&max_idle_conns=8&conn_max_lifetime=1h&pool_fifo=true&context_timeout_enabled=true",
		want: config.RedisOptions{Single: &redis.Options{
			Network: "tcp", Addr: "cache:6379", DB: 1, ContextTimeoutEnabled: true,
			PoolTimeout: 2 * time.Second, ConnMaxIdleTime: 5 * time.Minute, ClientName: "shop", Protocol: 2,
			DialTimeout: 3 * time.Second, ReadTimeout: 250 * time.Millisecond, WriteTimeout: -1, MaxRetries: 5,
			PoolSize: 20, MinIdleConns: 2, MaxIdleConns: 8, ConnMaxLifetime: time.Hour, PoolFIFO: true,
		}},
		client: &redis.Client{},
	}, {
		name: "ClusterNodes",
		url:  "redis://user:secret@n1:6379?addr=n2:6379&addr=n3:6379&read_timeout=1s&client_name=shop&max_redirects=5",
		want: config.RedisOptions{Cluster: &redis.ClusterOptions{
			Addrs: []string{"n1:6379", "n2:6379", "n3:6379"}, Username: "user", Password: "secret",
			ReadTimeout: time.Second, ClientName: "shop", MaxRedirects: 5, ContextTimeoutEnabled: true,
		}},
		client: &redis.ClusterClient{},
	}, {
		name: "ClusterEndpoint",
		url:  "rediss://:secret@endpoint:6379/0?cluster=true&pool_timeout=1s&conn_max_idle_time=30s",
		want: config.RedisOptions{Cluster: &redis.ClusterOptions{
			Addrs: []string{"endpoint:6379"}, Password: "secret", TLSConfig: &tls.Config{ServerName: "endpoint"},
			PoolTimeout: time.Second, ConnMaxIdleTime: 30 * time.Second, ContextTimeoutEnabled: true,
		}},
		client: &redis.ClusterClient{},
	}, {
		// The form REDIS_URL has always had: the user info is the master's.
		name: "Sentinel",
		url:  "redis://user:secret@s1:26379/2?addr=s2:26379&master_name=mymaster&dial_timeout=1s&protocol=3",
		want: config.RedisOptions{Failover: &redis.FailoverOptions{
			MasterName: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26379"}, DB: 2,
			Username: "user", Password: "secret", DialTimeout: time.Second, Protocol: 3, ContextTimeoutEnabled: true,
		}},
		client: &redis.Client{}, // a failover client
	}, {
		// go-redis's own form: the master's password in the query, the
		// sentinels' in the user info.
		name: "SentinelWithSentinelCredentials",
		url:  "rediss://sentuser:sentpw@s1:26379?master_name=m&password=datapw&skip_verify=1",
		want: config.RedisOptions{Failover: &redis.FailoverOptions{
			MasterName: "m", SentinelAddrs: []string{"s1:26379"},
			SentinelUsername: "sentuser", SentinelPassword: "sentpw", Password: "datapw",
			TLSConfig:             &tls.Config{ServerName: "s1", MinVersion: tls.VersionTLS12, InsecureSkipVerify: true},
			ContextTimeoutEnabled: true,
		}},
		client: &redis.Client{},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.ParseRedisURL(c.url)
			require.NoError(t, err)
			require.Equal(t, c.want, *got)
			client := got.NewClient()
			t.Cleanup(func() { _ = client.Close() })
			require.IsType(t, c.client, client)
		})
	}
}

// Every mistake is an error that says what is wrong, and none quotes the
// password, wherever in the URL it was.
func TestParseRedisURLErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ url, want string }{
		{"http://x", "invalid URL scheme: http"},
		{"localhost:6379", "invalid URL scheme: localhost"},
		{"redis://%zz", `invalid URL escape "%zz"`},
		{"redis://:hunter2@cache:port", `invalid port ":port" after host`},
		{"redis://:hunter2@cache/1/2", "invalid URL path"},
		{"redis://:hunter2@cache?dial_timeout=soon", "invalid dial_timeout duration"},
		{"redis://:hunter2@cache?colour=blue", "unexpected option: colour"},
		{"redis://:hunter2@cache?context_timeout_enabled=false", "context_timeout_enabled=false is not supported"},
		{"redis://:hunter2@n1:6379/2?addr=n2:6379", "Redis Cluster has only database 0, not 2"},
		{"redis://:hunter2@n1/x?cluster=1", `invalid database number: "x"`},
		{"redis://x?cluster=maybe", `cluster="maybe" is not a boolean`},
		{"redis://:hunter2@n1?addr=n2:6379&read_only=true", "read from replicas"},
		{"redis://:hunter2@n1?addr=u:hunter2@n2:6379", "unable to parse addr param: u:xxxxx@n2:6379"},
		{"redis://s1?master_name=m&route_randomly=true", "read from replicas"},
		{"redis://s1?master_name=m&password=hunter2&addr=hunter2", "unable to parse addr param: xxxxx"},
		{"redis://s1?master_name=&addr=s2:26379", "master_name is empty"},
		{"redis://s1?master_name=m&cluster=true", "cluster=true and master_name cannot be combined"},
	}
	for _, c := range cases {
		_, err := config.ParseRedisURL(c.url)
		require.Error(t, err, c.url)
		require.ErrorContains(t, err, c.want, c.url)
		require.Regexp(t, "^redis URL: ", err.Error())
		require.NotContains(t, err.Error(), "hunter2", c.url)
	}
}
