package sessioncache

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
)

func TestChannelPermissionsEncoding(t *testing.T) {
	t.Parallel()
	cases := map[string][]auth.Permission{
		"nil":             nil,
		"empty":           {},
		"known, in order": {auth.Authenticated, "UpdateCatalog", "ReadCatalog"},
		"every one":       auth.All(),
		"custom":          {auth.Authenticated, "ManageWidgets", "ReadCatalog"},
	}
	for name, perms := range cases {
		in := ChannelPermissions{ID: 7, Token: "tok", Code: "code", Permissions: perms}
		b, err := json.Marshal(in)
		require.NoError(t, err, name)
		var out ChannelPermissions
		require.NoError(t, json.Unmarshal(b, &out), name)
		require.Equal(t, in, out, name)
	}

	b, err := json.Marshal(ChannelPermissions{Permissions: []auth.Permission{auth.Authenticated, auth.SuperAdmin}})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":0,"token":"","code":"","permissions":"i:0001"}`, string(b))

	// Entries written as a comma list (custom permissions) read back.
	var out ChannelPermissions
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"token":"t","code":"c","permissions":"Authenticated,ReadCatalog"}`), &out))
	require.Equal(t, []auth.Permission{auth.Authenticated, "ReadCatalog"}, out.Permissions)

	for _, bad := range []string{`"i:0"`, `"i:zz"`, `"i:ff"`} {
		require.Error(t, json.Unmarshal([]byte(`{"permissions":`+bad+`}`), &out), bad)
	}
}
