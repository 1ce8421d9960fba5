package sessioncache

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
)

func testChannels(token string) []ChannelPermissions {
	return []ChannelPermissions{
		{ID: 2, Token: token, Code: "second", Permissions: []auth.Permission{"ReadCatalog", auth.Authenticated}},
		{ID: 1, Token: "default", Code: "__default_channel__", Permissions: auth.Assignable()},
		{ID: 3, Token: "custom", Code: "c", Permissions: []auth.Permission{auth.Authenticated, "ManageWidgets"}},
	}
}

func TestPermissionSetIsInternedAndImmutable(t *testing.T) {
	t.Parallel()
	in := testChannels("interned")
	a := NewPermissionSet(in)
	b := NewPermissionSet(testChannels("interned"))
	require.Same(t, a.set, b.set, "same content, one value")
	require.True(t, a == b)
	require.NotSame(t, a.set, NewPermissionSet(testChannels("other")).set)

	in[0].Token = "changed"
	in[0].Permissions[0] = auth.Owner
	require.Equal(t, testChannels("interned"), a.Channels(), "the set keeps nothing of its input")
	out := a.Channels()
	out[1].Permissions[0] = auth.Owner
	require.Equal(t, testChannels("interned"), a.Channels(), "Channels returns a copy")
	perms := a.At(1).Permissions()
	perms[0] = auth.Owner
	require.Equal(t, auth.Assignable(), a.At(1).Permissions(), "Permissions returns a copy")

	require.Equal(t, 3, a.Len())
	require.Equal(t, "second", a.At(0).Code())
	require.True(t, a.On(1).Has(auth.SuperAdmin))
	require.False(t, a.On(2).Has(auth.SuperAdmin))
	require.Zero(t, a.On(4).Len())
}

func TestPermissionSetNilAndEmpty(t *testing.T) {
	t.Parallel()
	require.Equal(t, PermissionSet{}, NewPermissionSet(nil))
	require.Nil(t, PermissionSet{}.Channels())
	empty := NewPermissionSet([]ChannelPermissions{})
	require.NotNil(t, empty.set)
	require.Equal(t, []ChannelPermissions{}, empty.Channels())
	nilPerms := NewPermissionSet([]ChannelPermissions{{ID: 1}})
	emptyPerms := NewPermissionSet([]ChannelPermissions{{ID: 1, Permissions: []auth.Permission{}}})
	require.NotSame(t, nilPerms.set, emptyPerms.set, "a nil list and an empty one are different content")
	require.Nil(t, nilPerms.Channels()[0].Permissions)
	require.Equal(t, []auth.Permission{}, emptyPerms.Channels()[0].Permissions)
}

func TestPermissionSetJSON(t *testing.T) {
	t.Parallel()
	for name, set := range map[string]PermissionSet{
		"nil":   {},
		"empty": NewPermissionSet([]ChannelPermissions{}),
		"full":  NewPermissionSet(testChannels("json")),
		"nils":  NewPermissionSet([]ChannelPermissions{{ID: 1}, {ID: 2, Permissions: []auth.Permission{}}}),
	} {
		b, err := json.Marshal(set)
		require.NoError(t, err, name)
		var got PermissionSet
		require.NoError(t, json.Unmarshal(b, &got), name)
		require.True(t, set == got, "%s: decoding finds the interned set: %s", name, b)
		require.Equal(t, set.Channels(), got.Channels(), name)
	}

	// The self-describing form: permissions by name.
	b, err := json.Marshal(NewPermissionSet([]ChannelPermissions{{ID: 1, Token: "t", Code: "c", Permissions: []auth.Permission{auth.Authenticated, auth.SuperAdmin}}}))
	require.NoError(t, err)
	require.JSONEq(t, `[{"id":1,"token":"t","code":"c","permissions":["Authenticated","SuperAdmin"]}]`, string(b))

	// A set first seen in JSON (not interned yet) decodes, and is then the
	// set NewPermissionSet returns.
	var got PermissionSet
	require.NoError(t, json.Unmarshal([]byte(`[{"id":9,"token":"first-seen-in-json","code":"c","permissions":["Authenticated","SuperAdmin"]},{"id":8,"token":"t","code":"c","permissions":["Authenticated","ManageWidgets"]}]`), &got))
	want := []ChannelPermissions{
		{ID: 9, Token: "first-seen-in-json", Code: "c", Permissions: []auth.Permission{auth.Authenticated, auth.SuperAdmin}},
		{ID: 8, Token: "t", Code: "c", Permissions: []auth.Permission{auth.Authenticated, "ManageWidgets"}},
	}
	require.Equal(t, want, got.Channels())
	require.True(t, got == NewPermissionSet(want))

	// No position-dependent form is accepted.
	require.Error(t, json.Unmarshal([]byte(`[{"permissions":"i:0001"}]`), &got))
}

// TestPermissionSetIsForgottenWhenUnused checks that the intern table does
// not keep a set nobody uses: the table would otherwise grow with every
// distinct set ever seen.
func TestPermissionSetIsForgottenWhenUnused(t *testing.T) {
	t.Parallel()
	key := func() []byte {
		var k []byte
		for _, c := range testChannels("forgotten") {
			k = appendPermissionsKey(appendChannelKey(k, c.ID, c.Token, c.Code), c.Permissions)
		}
		return k
	}()
	set := NewPermissionSet(testChannels("forgotten"))
	_, ok := permissionSets.lookup(key)
	require.True(t, ok)
	runtime.KeepAlive(set)
	set = PermissionSet{}
	_ = set

	// The cleanup runs on the runtime's goroutine some time after a
	// collection; the bound is a hang guard.
	require.Eventually(t, func() bool {
		runtime.GC() // frees the set, then queues the cleanup that forgets its key
		permissionSets.mu.Lock()
		defer permissionSets.mu.Unlock()
		_, present := permissionSets.sets[string(key)]
		return !present
	}, 30*time.Second, 10*time.Millisecond, "the key of an unused set is still in the table")
}
