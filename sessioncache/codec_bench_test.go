package sessioncache

import (
	"testing"

	"github.com/shopsession/sessionserver/auth"
)

// BenchmarkDecodeSuperadmin decodes the entry of a superadmin session on
// one channel with DefaultCodec: the CPU of a Redis hit besides the round
// trip.
func BenchmarkDecodeSuperadmin(b *testing.B) {
	s := &CachedSession{ID: 1, AuthenticationStrategy: "native", User: &CachedUser{ID: 1, Identifier: "superadmin", Verified: true, IsAdministrator: true,
		ChannelPermissions: NewPermissionSet([]ChannelPermissions{{ID: 1, Token: "default", Code: "__default_channel__", Permissions: auth.Assignable()}})}}
	data, err := DefaultCodec().AppendSession(nil, s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DefaultCodec().DecodeSession(data); err != nil {
			b.Fatal(err)
		}
	}
}
