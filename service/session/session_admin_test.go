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
// permissions; the request's channel scopes them (entity.ChannelScope).
func TestAdminScope(t *testing.T) {
	t.Parallel()
	ch := entity.ID(7)
	grant := func(p ...auth.Permission) auth.Granted { return auth.Grant(p) }
	cases := []struct {
		name    string
		granted auth.Granted
		end     bool
		want    session.Scope
	}{
		{"nothing", grant(), false, session.Scope{ChannelID: &ch}},
		{"read both", grant("ReadAdministrator", "ReadCustomer"), false, session.Scope{Administrators: true, Customers: true, ChannelID: &ch}},
		{"read customers", grant("ReadCustomer", "UpdateAdministrator"), false, session.Scope{Customers: true, ChannelID: &ch}},
		{"read administrators", grant("ReadAdministrator", "UpdateCustomer"), false, session.Scope{Administrators: true, ChannelID: &ch}},
		{"end customers", grant("ReadAdministrator", "UpdateCustomer"), true, session.Scope{Customers: true, ChannelID: &ch}},
		{"end administrators", grant("UpdateAdministrator", "ReadCustomer", "DeleteCustomer"), true, session.Scope{Administrators: true, ChannelID: &ch}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, session.AdminScope(c.granted, c.end, ch))
		})
	}
}
