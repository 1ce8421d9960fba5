package sessioncache

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
)

func TestCodecID(t *testing.T) {
	t.Parallel()
	def := DefaultCodec()
	require.Regexp(t, regexp.MustCompile(`^s2\.[0-9a-f]{16}$`), def.ID())
	require.True(t, def.native)
	require.Equal(t, def.ID(), NewCodec(auth.All()).ID(), "the ID depends on the list only")
	inserted := NewCodec(slices.Insert(auth.All(), 2, "ReadWidget"))
	require.NotEqual(t, def.ID(), inserted.ID())
	require.False(t, inserted.native)
	swapped := auth.All()
	swapped[0], swapped[1] = swapped[1], swapped[0]
	require.NotEqual(t, def.ID(), NewCodec(swapped).ID(), "the order is part of the identity")
	require.NotEqual(t, def.ID(), NewCodec(auth.All()[:len(auth.All())-1]).ID())
}

// The reason for the ID: an entry read with a list that has one
// permission inserted in the middle decodes, without complaint, to other
// permissions. The Redis strategy never gets there (the ID differs: a
// miss, TestRedis*/AnotherBuildsEntryIsAMiss).
func TestCodecIndexesShiftWithTheList(t *testing.T) {
	t.Parallel()
	oldBuild := NewCodec(auth.All())
	newBuild := NewCodec(slices.Insert(auth.All(), 2, "ReadWidget"))
	granted := []auth.Permission{auth.Authenticated, auth.UpdateGlobalSettings, "ReadCatalog"}
	s := &CachedSession{ID: 1, User: &CachedUser{ID: 2, ChannelPermissions: NewPermissionSet([]ChannelPermissions{{ID: 1, Permissions: granted}})}}
	b, err := oldBuild.AppendSession(nil, s)
	require.NoError(t, err)
	got, err := newBuild.DecodeSession(b)
	require.NoError(t, err)
	require.NotEqual(t, granted, got.User.ChannelPermissions.At(0).Permissions())
	require.Equal(t, []auth.Permission{auth.Authenticated, auth.Public, "CreateCatalog"}, got.User.ChannelPermissions.At(0).Permissions())
}

// Each codec reads what it wrote, whatever its list, and finds the set
// interned from the same content.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	channels := []ChannelPermissions{
		{ID: 2, Token: "roundtrip", Code: "second", Permissions: []auth.Permission{"ReadCatalog", auth.Authenticated}},
		{ID: 1, Token: "default", Code: "__default_channel__", Permissions: auth.Assignable()},
		{ID: 3, Token: "custom", Code: "c", Permissions: []auth.Permission{auth.Authenticated, "ManageWidgets"}},
		{ID: 4, Token: "nil", Code: "n"},
		{ID: 5, Token: "empty", Code: "e", Permissions: []auth.Permission{}},
	}
	set := NewPermissionSet(channels)
	reversed := auth.All()
	slices.Reverse(reversed)
	for name, c := range map[string]*Codec{
		"default":  DefaultCodec(),
		"inserted": NewCodec(slices.Insert(auth.All(), 2, "ReadWidget")),
		"reversed": NewCodec(reversed),
		"short":    NewCodec(auth.All()[:3]),
	} {
		for _, s := range []*CachedSession{
			{ID: 1},
			{ID: 2, User: &CachedUser{ID: 3, Identifier: "u"}},
			{ID: 3, User: &CachedUser{ID: 3, ChannelPermissions: NewPermissionSet([]ChannelPermissions{})}},
			{ID: 4, User: &CachedUser{ID: 3, Verified: true, ChannelPermissions: set}},
		} {
			b, err := c.AppendSession(nil, s)
			require.NoError(t, err, name)
			got, err := c.DecodeSession(b)
			require.NoError(t, err, name)
			require.Equal(t, s, got, "%s: %s", name, b)
			if s.User != nil {
				require.True(t, s.User.ChannelPermissions == got.User.ChannelPermissions, "%s: the interned set", name)
			}
		}
	}
}

func TestCodecPermissionsForm(t *testing.T) {
	t.Parallel()
	c := DefaultCodec()
	require.Equal(t, "i:0001", c.encodePermissions([]auth.Permission{auth.Authenticated, auth.SuperAdmin}))
	require.Equal(t, "i:", c.encodePermissions([]auth.Permission{}))
	require.Equal(t, "Authenticated,ManageWidgets", c.encodePermissions([]auth.Permission{auth.Authenticated, "ManageWidgets"}))
	require.Equal(t, "i:0201", NewCodec([]auth.Permission{"A", auth.SuperAdmin, auth.Authenticated}).encodePermissions([]auth.Permission{auth.Authenticated, auth.SuperAdmin}))

	perms, err := c.decodePermissions([]byte("Authenticated,ReadCatalog"))
	require.NoError(t, err)
	require.Equal(t, []auth.Permission{auth.Authenticated, "ReadCatalog"}, perms)

	short := NewCodec(auth.All()[:3])
	for _, bad := range []string{`"i:0"`, `"i:zz"`, `"i:ff"`} {
		for _, c := range []*Codec{c, short} {
			_, err := c.DecodeSession([]byte(`{"user":{"channelPermissions":[{"permissions":` + bad + `}]}}`))
			require.Error(t, err, bad)
		}
	}
	_, err = short.DecodeSession([]byte(`{"user":{"channelPermissions":[{"permissions":"i:03"}]}}`))
	require.Error(t, err, "an index past the codec's list")
}

// TestCodecDecodingAllocatesNoPermissionList is not parallel:
// testing.Benchmark inside a test does not allow it. Decoding a superadmin
// set on two channels allocated two lists of 91 permissions (2 × 1.5 KB)
// before interning; what is left (~1 KB) is encoding/json's own strings.
func TestCodecDecodingAllocatesNoPermissionList(t *testing.T) {
	set := NewPermissionSet([]ChannelPermissions{
		{ID: 1, Token: "default", Code: "__default_channel__", Permissions: auth.Assignable()},
		{ID: 2, Token: "second", Code: "second", Permissions: auth.Assignable()},
	})
	b := set.set.compact
	var got PermissionSet
	bytes := testing.Benchmark(func(tb *testing.B) {
		tb.ReportAllocs()
		for tb.Loop() {
			var raw []channelWire
			if err := json.Unmarshal(b, &raw); err != nil {
				tb.Fatal(err)
			}
			var err error
			if got, err = DefaultCodec().decodeSet(raw); err != nil {
				tb.Fatal(err)
			}
		}
	}).AllocedBytesPerOp()
	require.True(t, got == set)
	require.Less(t, bytes, int64(1500), "decoding an interned set allocates its permission lists")
}
