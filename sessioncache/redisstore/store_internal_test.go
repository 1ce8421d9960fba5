package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/sessioncache"
)

func TestRedisDefaults(t *testing.T) {
	t.Parallel()
	r := New(nil, Options{})
	require.Equal(t, "vendure-session-cache:", r.keyPrefix)
	require.Equal(t, 24*time.Hour, r.ttl)
	require.Equal(t, 50*time.Millisecond, r.operationTimeout)
	require.Equal(t, 500*time.Millisecond, r.probeTimeout)
	require.Equal(t, "vendure-session-cache:{meta}clock", r.clockKey)
	require.Equal(t, "vendure-session-cache:{meta}floor", r.floorKey)
	require.Same(t, sessioncache.DefaultCodec(), r.codec)

	opts := Options{KeyPrefix: "p:", TTL: time.Hour, OperationTimeout: time.Second, ProbeTimeout: 2 * time.Second}
	r = New(nil, opts)
	require.Equal(t, Options{KeyPrefix: r.keyPrefix, TTL: r.ttl, OperationTimeout: r.operationTimeout, ProbeTimeout: r.probeTimeout}, opts)
	require.Equal(t, time.Second, New(nil, Options{OperationTimeout: time.Second}).probeTimeout, "never shorter than a call's")

	codec := sessioncache.NewCodec(auth.All()[1:])
	require.Same(t, codec, New(nil, Options{Codec: codec}).codec)
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	require.Equal(t, "vendure-session-cache:", escapeGlob("vendure-session-cache:"))
	require.Equal(t, `a\*b\?c\[d\]e\\f`, escapeGlob(`a*b?c[d]e\f`))
}

// The revocation key of an entry is in the entry's hash slot, whatever
// braces the prefix holds, except a "}" outside a hash tag (as in "a{}b",
// whose empty tag is no tag): no other key can hash like that one, which
// is why Options.KeyPrefix rules it out.
func TestRevokedKeySlot(t *testing.T) {
	t.Parallel()
	for _, k := range []string{
		"vendure-session-cache:abc",
		"{sessions}:abc",
		"pre{tag}fix:abc",
		"x{y:abc", // an unclosed brace is no tag
	} {
		require.Equal(t, hashSlot(k), hashSlot(revokedKey(k)), k)
	}
}

// hashSlot is the part of key Redis Cluster hashes.
func hashSlot(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[open+1 : open+1+end]
		}
	}
	return key
}
