package sessioncache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedisDefaults(t *testing.T) {
	t.Parallel()
	r := NewRedis(nil, RedisOptions{})
	require.Equal(t, "vendure-session-cache:", r.keyPrefix)
	require.Equal(t, 24*time.Hour, r.ttl)
	require.Equal(t, 50*time.Millisecond, r.operationTimeout)
	require.Equal(t, "vendure-session-cache:generation", r.genKey)

	opts := RedisOptions{KeyPrefix: "p:", TTL: time.Hour, OperationTimeout: time.Second}
	r = NewRedis(nil, opts)
	require.Equal(t, RedisOptions{KeyPrefix: r.keyPrefix, TTL: r.ttl, OperationTimeout: r.operationTimeout}, opts)
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	require.Equal(t, "vendure-session-cache:", escapeGlob("vendure-session-cache:"))
	require.Equal(t, `a\*b\?c\[d\]e\\f`, escapeGlob(`a*b?c[d]e\f`))
}
