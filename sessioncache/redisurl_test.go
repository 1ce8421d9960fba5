package sessioncache

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	o, err := ParseRedisURL("redis://user:secret@cache.internal:6380/3")
	require.NoError(t, err)
	require.Equal(t, []string{"cache.internal:6380"}, o.Addrs)
	require.Equal(t, 3, o.DB)
	require.Equal(t, "user", o.Username)
	require.Equal(t, "secret", o.Password)
	require.True(t, o.ContextTimeoutEnabled)
	require.IsType(t, &redis.Client{}, redis.NewUniversalClient(o))

	o, err = ParseRedisURL("rediss://cache:6379")
	require.NoError(t, err)
	require.NotNil(t, o.TLSConfig)

	o, err = ParseRedisURL("redis://n1:6379?addr=n2:6379&addr=n3:6379")
	require.NoError(t, err)
	require.Equal(t, []string{"n1:6379", "n2:6379", "n3:6379"}, o.Addrs)
	require.IsType(t, &redis.ClusterClient{}, redis.NewUniversalClient(o))

	o, err = ParseRedisURL("redis://endpoint:6379?cluster=true")
	require.NoError(t, err)
	require.True(t, o.IsClusterMode)
	require.IsType(t, &redis.ClusterClient{}, redis.NewUniversalClient(o))

	o, err = ParseRedisURL("redis://s1:26379/2?addr=s2:26379&master_name=mymaster")
	require.NoError(t, err)
	require.Equal(t, "mymaster", o.MasterName)
	require.Equal(t, []string{"s1:26379", "s2:26379"}, o.Addrs)
	require.IsType(t, &redis.Client{}, redis.NewUniversalClient(o)) // a failover client

	for _, bad := range []string{"http://x", "redis://n1:6379/2?addr=n2:6379", "redis://x?cluster=maybe", "redis://%zz"} {
		_, err := ParseRedisURL(bad)
		require.Error(t, err, bad)
	}
}
