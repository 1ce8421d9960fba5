package redisstore_test

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// A strategy on a client made from a URL, with options only go-redis's
// parser knows, passes the conformance suite.
func TestRedisFromURL(t *testing.T) {
	t.Parallel()
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		mr := miniredis.RunT(t)
		mr.RequireUserAuth("shop", "secret")
		o, err := config.ParseRedisURL("redis://shop:secret@" + mr.Addr() + "/2?client_name=sessions&pool_timeout=2s&conn_max_idle_time=1m&protocol=2")
		require.NoError(t, err)
		client := o.NewClient()
		t.Cleanup(func() { _ = client.Close() })
		return newTestRedis(t, client, mr, redisstore.Options{})
	})
}

// The URL's user, password and database reach the server.
func TestRedisFromURLSelectsDatabase(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	mr.RequireUserAuth("shop", "secret")
	o, err := config.ParseRedisURL("redis://shop:secret@" + mr.Addr() + "/2")
	require.NoError(t, err)
	client := o.NewClient()
	t.Cleanup(func() { _ = client.Close() })
	s := redisstore.New(client, redisstore.Options{KeyPrefix: "p:", OperationTimeout: testOperationTimeout})
	require.NoError(t, s.Set(t.Context(), "k", sessioncachetest.FullSession(), s.Generation()))
	require.Equal(t, []string{"p:k"}, mr.DB(2).Keys())
	require.Empty(t, mr.DB(0).Keys())
}

// The Sentinel form makes a failover client that finds the master through
// real sentinels (skipped without redis-server, unless CI or
// TEST_REDIS_URL is set).
func TestRedisFromSentinelURL(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	o, err := config.ParseRedisURL(s.URL())
	require.NoError(t, err)
	client := o.NewClient()
	t.Cleanup(func() { _ = client.Close() })
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		return newTestRedis(t, client, nil, redisstore.Options{})
	})
}
