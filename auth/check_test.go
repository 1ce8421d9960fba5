package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	cust := []auth.Permission{auth.Authenticated}
	admin := []auth.Permission{auth.Authenticated, "ReadCatalog"}
	cases := []struct {
		name     string
		granted  []auth.Permission
		required []auth.Permission
		want     auth.Decision
	}{
		{"no @allow is public", nil, nil, auth.Allowed},
		{"Public lets anyone in", nil, []auth.Permission{auth.Public}, auth.Allowed},
		{"anonymous on Authenticated", nil, []auth.Permission{auth.Authenticated}, auth.Denied},
		{"customer on Authenticated", cust, []auth.Permission{auth.Authenticated}, auth.Allowed},
		{"any-of", admin, []auth.Permission{"UpdateCatalog", "ReadCatalog"}, auth.Allowed},
		{"missing permission", admin, []auth.Permission{"UpdateCatalog"}, auth.Denied},
		{"anonymous on Owner", nil, []auth.Permission{auth.Owner}, auth.AllowedAsOwner},
		{"anonymous on Authenticated|Owner", nil, []auth.Permission{auth.Authenticated, auth.Owner}, auth.AllowedAsOwner},
		{"customer on Authenticated|Owner is authorized, not owner-only", cust, []auth.Permission{auth.Authenticated, auth.Owner}, auth.Allowed},
		{"customer on UpdateOrder|Owner is owner-only", cust, []auth.Permission{"UpdateOrder", auth.Owner}, auth.AllowedAsOwner},
	}
	for _, c := range cases {
		require.Equal(t, c.want, auth.Decide(auth.Grant(c.granted), c.required), c.name)
	}
}

func TestPermissionLists(t *testing.T) {
	t.Parallel()
	all := auth.All()
	require.Len(t, all, 5+22*4)
	require.Equal(t, []auth.Permission{auth.Authenticated, auth.SuperAdmin, auth.Owner, auth.Public, auth.UpdateGlobalSettings, "CreateCatalog"}, all[:6])
	assignable := auth.Assignable()
	require.Len(t, assignable, len(all)-2)
	require.NotContains(t, assignable, auth.Owner)
	require.NotContains(t, assignable, auth.Public)

	var p auth.Permission
	require.NoError(t, p.UnmarshalGQL("ReadStockLocation"))
	require.Error(t, p.UnmarshalGQL("ReadNothing"))
	require.Error(t, p.UnmarshalGQL(3))
}

func TestPermissionMarshalGQL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   auth.Permission
		want string
	}{{"ReadCatalog", `"ReadCatalog"`}, {"", `""`}, {`we"ird`, `"we\"ird"`}, {"Read_Catalog", `"Read_Catalog"`}} {
		var b strings.Builder
		c.in.MarshalGQL(&b)
		require.Equal(t, c.want, b.String())
	}
}

func TestPermissionListMarshalGQL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   auth.PermissionList
		want string
	}{{nil, `[]`}, {auth.PermissionList{"Authenticated"}, `["Authenticated"]`}, {auth.PermissionList{"Authenticated", "ReadCatalog"}, `["Authenticated","ReadCatalog"]`}} {
		var b strings.Builder
		c.in.MarshalGQL(&b)
		require.Equal(t, c.want, b.String())
	}
}

func TestPermissionListQuotesOddValues(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	auth.PermissionList{"ReadCatalog", `we"ird`}.MarshalGQL(&b)
	require.Equal(t, `["ReadCatalog","we\"ird"]`, b.String())
}

func TestIntern(t *testing.T) { // not parallel: AllocsPerRun
	require.Equal(t, auth.SuperAdmin, auth.Intern([]byte("SuperAdmin")))
	require.Equal(t, auth.Permission("CustomThing"), auth.Intern([]byte("CustomThing")))
	b := []byte("ReadCatalog")
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = auth.Intern(b) }))
}

func TestGranted(t *testing.T) {
	t.Parallel()
	list := []auth.Permission{auth.Authenticated, "ReadCatalog"}
	g := auth.Grant(list)
	list[0] = auth.SuperAdmin
	require.Equal(t, []auth.Permission{auth.Authenticated, "ReadCatalog"}, g.List(), "Grant copies its list")
	out := g.List()
	out[0] = auth.SuperAdmin
	require.True(t, g.Has(auth.Authenticated), "List returns a copy")
	require.False(t, g.Has(auth.SuperAdmin))
	require.Equal(t, 2, g.Len())
	require.Nil(t, auth.Grant(nil).List(), "nil stays nil")
	require.Equal(t, []auth.Permission{}, auth.Grant([]auth.Permission{}).List(), "empty stays empty")
	require.False(t, auth.Granted{}.Has(auth.Authenticated))
	require.True(t, g.Equal(auth.Grant([]auth.Permission{auth.Authenticated, "ReadCatalog"})))
	require.False(t, g.Equal(auth.Grant([]auth.Permission{"ReadCatalog", auth.Authenticated})), "order counts")
}
