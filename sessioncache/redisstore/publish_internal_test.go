package redisstore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Keys are written with their length, so any key, with the separators in
// it, reads back whole; a clear carries the floor.
func TestMessageRoundTrip(t *testing.T) {
	t.Parallel()
	r := New(nil, Options{})
	keys := []string{"k", "", "12:ab|c", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "1|x|e|1:k"}
	m, err := parseMessage(r.evictMessage(keys...))
	require.NoError(t, err)
	require.Equal(t, invalidation{sender: r.sender, keys: keys}, m)

	m, err = parseMessage(r.clearMessagePrefix() + "1796685212016317")
	require.NoError(t, err)
	require.Equal(t, invalidation{sender: r.sender, clear: true, floor: 1796685212016317}, m)
	m, err = parseMessage(r.markerMessage(42))
	require.NoError(t, err)
	require.Equal(t, invalidation{sender: r.sender, marker: true, seq: 42}, m)
	require.Len(t, r.sender, 16)
	require.NotEqual(t, r.sender, New(nil, Options{}).sender, "each Store names its own messages")
}

// What cannot be read is an error (the receiver then drops everything),
// never a partial list of keys.
func TestMessageUnreadable(t *testing.T) {
	t.Parallel()
	for _, m := range []string{
		"", "1", "1|s", "1|s|e", "2|s|e|1:k", "1|s|x|", "1|s|c|", "1|s|c|-1", "1|s|c|x", "1|s|m|", "1|s|m|x",
		"1|s|e|2:k", "1|s|e|k", "1|s|e|-1:k", "1|s|e|1:k3", "1|s|e|1:k99999999999999999999:x",
	} {
		_, err := parseMessage(m)
		require.ErrorIs(t, err, errBadMessage, "%q", m)
	}
}
