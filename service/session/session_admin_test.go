package session_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/session"
)

// Reading an administrator's sessions takes ReadAdministrator, a
// customer's or a guest's ReadCustomer; ending them the Update
// permissions; off the default channel, that channel's sessions only.
func TestAdminScope(t *testing.T) {
	t.Parallel()
	ch := entity.ID(7)
	grant := func(p ...auth.Permission) auth.Granted { return auth.Grant(p) }
	cases := []struct {
		name      string
		granted   auth.Granted
		end       bool
		onDefault bool
		want      session.Scope
	}{
		{"nothing", grant(), false, true, session.Scope{}},
		{"read both", grant("ReadAdministrator", "ReadCustomer"), false, true, session.Scope{Administrators: true, Customers: true}},
		{"read customers", grant("ReadCustomer", "UpdateAdministrator"), false, true, session.Scope{Customers: true}},
		{"read administrators", grant("ReadAdministrator", "UpdateCustomer"), false, true, session.Scope{Administrators: true}},
		{"end customers", grant("ReadAdministrator", "UpdateCustomer"), true, true, session.Scope{Customers: true}},
		{"end administrators", grant("UpdateAdministrator", "ReadCustomer", "DeleteCustomer"), true, true, session.Scope{Administrators: true}},
		{"another channel", grant("ReadCustomer"), false, false, session.Scope{Customers: true, ChannelID: &ch}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, session.AdminScope(c.granted, c.end, ch, c.onDefault))
		})
	}
}
