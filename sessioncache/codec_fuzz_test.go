package sessioncache_test

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// fuzzCodecs are the codecs the fuzz targets run: this build's (native:
// permissions as indexes of auth.All()), one whose list has a permission
// inserted (so indexes differ from auth.All()'s), and one that knows only
// three permissions (so most are written by name).
func fuzzCodecs() map[string]*sessioncache.Codec {
	return map[string]*sessioncache.Codec{
		"default":  sessioncache.DefaultCodec(),
		"inserted": sessioncache.NewCodec(slices.Insert(auth.All(), 2, "ReadWidget")),
		"short":    sessioncache.NewCodec(auth.All()[:3]),
	}
}

// FuzzDecodeSession feeds arbitrary bytes to each codec's DecodeSession, as
// a corrupted, truncated or hostile Redis value would be. It never panics;
// it refuses with an error of its own ("sessioncache: …"), or it yields a
// session that the codec encodes again, and the encoding decodes again to
// the same session. The one exception is an empty permission name, which
// the form by name cannot always say (no Permission is one; a role row's
// comma-joined list could hold one): a round trip may drop it, and changes
// nothing else, so a cache round trip never grants a permission.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range []*sessioncache.CachedSession{sessioncachetest.FullSession(), sessioncachetest.AnonymousSession()} {
		for _, c := range fuzzCodecs() {
			b, err := c.AppendSession(nil, s)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"id":1}`, `{"id":"1"}`, `{"id":1e400}`, `{"cacheExpiry":1e400}`,
		`{"expires":"not a time"}`, `{"expires":"0000-01-01T00:00:00+23:59"}`, `{"expires":"9999-12-31T23:59:59-23:59"}`,
		`{"user":null}`, `{"user":{}}`, `{"user":{"channelPermissions":null}}`, `{"user":{"channelPermissions":[]}}`,
		`{"user":{"channelPermissions":[null]}}`, `{"user":{"channelPermissions":[{}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:0001ff"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:0A0b"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:0"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:zz"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"i:0000"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":""}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":","}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"a,,b,"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":"Authenticated,SuperAdmin,i:00"}]}}`,
		`{"user":{"channelPermissions":[{"id":1,"permissions":["SuperAdmin"]}]}}`,
		`{"user":{"channelPermissions":{"id":1}}}`,
		`{"user":{"identifier":"\ud800","channelPermissions":[{"token":"\u0000","code":"\xff"}]}}`,
		`{"id":1}{"id":2}`, `{"id":1`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, c := range fuzzCodecs() {
			first, err := c.DecodeSession(data)
			if err != nil {
				require.Nil(t, first, name)
				require.True(t, strings.HasPrefix(err.Error(), "sessioncache: "), "%s: %v", name, err)
				continue
			}
			require.NotNil(t, first, name)
			require.Empty(t, first.Token, "%s: a token is never read from the cache", name)

			enc, err := c.AppendSession(nil, first)
			require.NoError(t, err, "%s: what was decoded encodes", name)
			second, err := c.DecodeSession(enc)
			require.NoError(t, err, "%s: what was encoded decodes: %s", name, enc)
			requireSameButPermissions(t, first, second, name)
			requireSamePermissionsButEmpty(t, first, second, name)
			if !hasEmptyPermission(first) {
				again, err := c.AppendSession(nil, second)
				require.NoError(t, err, name)
				require.Equal(t, string(enc), string(again), "%s: the encoding round-trips unchanged", name)
			}
		}
	})
}

// requireSameButPermissions checks every field of got against want,
// except the permission lists (compared by requireNoPermissionGained).
func requireSameButPermissions(t *testing.T, want, got *sessioncache.CachedSession, msg string) {
	t.Helper()
	w, g := *want, *got
	if w.User != nil && g.User != nil {
		wu, gu := *w.User, *g.User
		require.Equal(t, wu.ChannelPermissions.Len(), gu.ChannelPermissions.Len(), msg)
		for i := range wu.ChannelPermissions.Len() {
			wc, gc := wu.ChannelPermissions.At(i), gu.ChannelPermissions.At(i)
			require.Equal(t, wc.ID(), gc.ID(), msg)
			require.Equal(t, wc.Token(), gc.Token(), msg)
			require.Equal(t, wc.Code(), gc.Code(), msg)
			require.Equal(t, wc.Permissions() == nil, gc.Permissions() == nil, "%s: a nil list stays nil", msg)
		}
		wu.ChannelPermissions, gu.ChannelPermissions = sessioncache.PermissionSet{}, sessioncache.PermissionSet{}
		w.User, g.User = &wu, &gu
	}
	sessioncachetest.RequireSessionEqual(t, &w, &g, msg)
}

// requireSamePermissionsButEmpty checks that got grants, on each channel,
// the permissions want grants there, in order, but for empty names.
func requireSamePermissionsButEmpty(t *testing.T, want, got *sessioncache.CachedSession, msg string) {
	t.Helper()
	if got.User == nil {
		return
	}
	for i := range got.User.ChannelPermissions.Len() {
		empty := func(p auth.Permission) bool { return p == "" }
		w := slices.DeleteFunc(want.User.ChannelPermissions.At(i).Permissions(), empty)
		g := slices.DeleteFunc(got.User.ChannelPermissions.At(i).Permissions(), empty)
		require.Equal(t, w, g, "%s: channel %d", msg, i)
	}
}

func hasEmptyPermission(s *sessioncache.CachedSession) bool {
	if s.User == nil {
		return false
	}
	for i := range s.User.ChannelPermissions.Len() {
		if s.User.ChannelPermissions.At(i).Granted().Has("") {
			return true
		}
	}
	return false
}

// fuzzPermissionPool is what the round-trip target draws permissions
// from: every known one and a few that this build does not know (a role
// may hold a permission another build added). Every name is a GraphQL
// name, as every Permission is (an enum value): the codec's form by name
// separates names with commas, so it cannot hold a name with one, nor
// tell an empty name from none.
var fuzzPermissionPool = append(auth.All(), "ManageWidgets", "ReadWidget", "X_1", "i")

// FuzzCodecRoundTrip builds a session from fuzzed fields, encodes it with
// each codec and decodes it: the result is the session (Token aside, which
// is never stored), and its permission set is the very same interned
// value. A session JSON cannot hold (a CacheExpiry that is NaN or
// infinite) is refused with an error, never stored as something else.
// Strings are made valid UTF-8 first: JSON holds nothing else, and no
// string of a session is anything else (the GraphQL transport refuses
// other bytes, and so does PostgreSQL).
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add(1767323045.123456, int64(7), int64(1767323045123456789), int64(41), true, int64(2), true, "native",
		int64(3), "admin@example.com", uint8(3), "second-token", "second", []byte{1, 0, 2, 0xff, 1, 5, 6, 7})
	f.Add(0.0, int64(0), int64(0), int64(0), false, int64(0), false, "", int64(0), "", uint8(0), "", "", []byte(nil))
	f.Add(math.Inf(1), int64(-1), int64(math.MinInt64), int64(math.MaxInt64), true, int64(math.MinInt64), true, "\x00",
		int64(math.MaxInt64), "\xff\xfe", uint8(1), "", "", []byte{0xff, 0xff, 0xff})
	f.Add(-0.5, int64(1), int64(-1), int64(1), true, int64(1), false, "x", int64(1), "ü", uint8(1), "tok", "code",
		[]byte{0, 0, 0xff, 1, 0, 0, 0, 0xff, 1, byte(len(fuzzPermissionPool) - 1)})
	f.Fuzz(func(t *testing.T, cacheExpiry float64, id, expiresNanos, orderID int64, hasOrder bool, channelID int64, hasChannel bool,
		strategy string, userID int64, identifier string, userFlags uint8, chToken, chCode string, perms []byte,
	) {
		s := &sessioncache.CachedSession{
			CacheExpiry: cacheExpiry,
			ID:          entity.ID(id),
			Token:       "never-stored",
			// Zones of whole minutes: RFC 3339, and so JSON, has no others.
			Expires:                time.Unix(0, expiresNanos).In(time.FixedZone("", int(expiresNanos%1440)*60)),
			AuthenticationStrategy: strings.ToValidUTF8(strategy, "\uFFFD"),
		}
		if hasOrder {
			s.ActiveOrderID = new(entity.ID(orderID))
		}
		if hasChannel {
			s.ActiveChannelID = new(entity.ID(channelID))
		}
		if userFlags&1 != 0 {
			s.User = &sessioncache.CachedUser{
				ID: entity.ID(userID), Identifier: strings.ToValidUTF8(identifier, "\uFFFD"),
				Verified: userFlags&2 != 0, IsAdministrator: userFlags&4 != 0,
				ChannelPermissions: fuzzPermissionSet(userFlags&8 != 0, channelID, chToken, chCode, perms),
			}
		}
		for name, c := range fuzzCodecs() {
			enc, err := c.AppendSession(nil, s)
			if math.IsNaN(cacheExpiry) || math.IsInf(cacheExpiry, 0) {
				require.Error(t, err, "%s: JSON has no NaN or infinity", name)
				continue
			}
			require.NoError(t, err, name)
			require.False(t, bytes.Contains(enc, []byte("never-stored")), "%s: the token is not encoded", name)
			got, err := c.DecodeSession(enc)
			require.NoError(t, err, "%s: %s", name, enc)
			sessioncachetest.RequireSessionEqual(t, s, got, name)
			if s.User != nil {
				require.True(t, s.User.ChannelPermissions == got.User.ChannelPermissions, "%s: the same interned set", name)
			}
		}
	})
}

// fuzzPermissionSet makes a permission set from perms: 0xff separates the
// channels (at most four); each channel's first byte is odd for a nil list,
// and the others pick permissions from fuzzPermissionPool. nilSet gives the
// nil set, and no bytes the empty one.
func fuzzPermissionSet(nilSet bool, firstID int64, token, code string, perms []byte) sessioncache.PermissionSet {
	if nilSet {
		return sessioncache.PermissionSet{}
	}
	channels := []sessioncache.ChannelPermissions{}
	for i, part := range bytes.SplitN(perms, []byte{0xff}, 4) {
		if len(perms) == 0 {
			break
		}
		ch := sessioncache.ChannelPermissions{
			ID:    entity.ID(firstID + int64(i)),
			Token: strings.ToValidUTF8(token, "\uFFFD") + strconv.Itoa(i),
			Code:  strings.ToValidUTF8(code, "\uFFFD"),
		}
		if len(part) > 0 && part[0]%2 == 0 {
			ch.Permissions = []auth.Permission{}
			for _, b := range part[1:] {
				ch.Permissions = append(ch.Permissions, fuzzPermissionPool[int(b)%len(fuzzPermissionPool)])
			}
		}
		channels = append(channels, ch)
	}
	return sessioncache.NewPermissionSet(channels)
}
