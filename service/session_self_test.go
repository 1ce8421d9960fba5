package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

const (
	laptopAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	phoneAgent  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

// sessionFrom creates an authenticated session for a user as a login from
// a client with that address and User-Agent would.
func (b *testBundle) sessionFrom(t *testing.T, userID entity.ID, address, agent string) *sessioncache.CachedSession {
	t.Helper()
	ch := b.defaultChannel.ID
	ctx := clientinfo.With(b.ctx, clientinfo.Info{Address: address, UserAgent: agent})
	cs, err := b.sessions.CreateNewAuthenticatedSession(ctx, session.NewAuthenticatedSession{
		UserID: userID, AuthenticationStrategy: account.NativeStrategyName, ActiveChannelID: &ch,
	})
	require.NoError(t, err)
	return cs
}

// setSessionColumn writes one column of a session row, as the last-use
// writer or the passage of time would have.
func (b *testBundle) setSessionColumn(t *testing.T, id entity.ID, column string, value any) {
	t.Helper()
	_, err := b.db.NewUpdate().Model((*entity.Session)(nil)).Set("? = ?", bun.Ident(column), value).Where("id = ?", id).Exec(b.ctx)
	require.NoError(t, err)
}

func ids(infos []*session.Info) []entity.ID {
	out := make([]entity.ID, len(infos))
	for i, in := range infos {
		out[i] = in.ID
	}
	return out
}

func selfOf(cs *sessioncache.CachedSession) session.Self {
	return session.Self{UserID: cs.User.ID, SessionID: cs.ID}
}

// A user's own live sessions: most recently used first (last use, else
// creation), its current one marked, described from their User-Agent;
// never another user's, nor an expired one.
func TestListOwnSessions(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		me := b.createCustomer(t, "self@example.com", "test-pw", true)
		other := b.createCustomer(t, "someone-else@example.com", "test-pw", true)
		laptop := b.sessionFrom(t, me, "198.51.100.7", laptopAgent)
		b.clock.Advance(time.Minute)
		phone := b.sessionFrom(t, me, "203.0.113.9", phoneAgent)
		b.clock.Advance(time.Minute)
		script := b.sessionFrom(t, me, "", "")
		b.clock.Advance(time.Minute)
		expired := b.sessionFrom(t, me, "", "")
		b.setSessionColumn(t, expired.ID, "expires", b.clock.Now().Add(-time.Second).UTC())
		b.sessionFrom(t, other, "192.0.2.1", laptopAgent)

		// The laptop was used after the script was created; the script's
		// row is older than the last-use column (its creation counts).
		used := b.clock.Now().Add(-30 * time.Second).UTC()
		b.setSessionColumn(t, laptop.ID, "last_used_at", used)
		b.setSessionColumn(t, script.ID, "last_used_at", nil)

		got, err := b.sessions.ListOwnSessions(b.ctx, selfOf(phone))
		require.NoError(t, err)
		require.Equal(t, []entity.ID{laptop.ID, script.ID, phone.ID}, ids(got))

		l, s, p := got[0], got[1], got[2]
		require.False(t, l.Current)
		require.False(t, s.Current)
		require.True(t, p.Current)
		require.WithinDuration(t, used, *l.LastUsedAt, time.Millisecond)
		require.WithinDuration(t, p.CreatedAt, *p.LastUsedAt, time.Millisecond, "a new session was used when created")
		require.Nil(t, s.LastUsedAt)
		require.Equal(t, "198.51.100.7", *l.ClientAddress)
		require.Equal(t, laptopAgent, *l.UserAgent)
		require.Equal(t, "Firefox", *l.Browser)
		require.Equal(t, "Linux", *l.OperatingSystem)
		require.Equal(t, session.DeviceDesktop, l.DeviceType)
		require.Equal(t, "Safari", *p.Browser)
		require.Equal(t, "iOS", *p.OperatingSystem)
		require.Equal(t, session.DeviceMobile, p.DeviceType)
		require.Nil(t, s.ClientAddress)
		require.Nil(t, s.UserAgent)
		require.Nil(t, s.Browser)
		require.Nil(t, s.OperatingSystem)
		require.Equal(t, session.DeviceUnknown, s.DeviceType)
		require.Equal(t, session.TypeAuthenticated, l.Type)
		require.Equal(t, "self@example.com", l.User.Identifier)
		require.Equal(t, b.defaultChannel.ID, *l.ActiveChannelID)

		// The same list from another of the sessions marks that one.
		got, err = b.sessions.ListOwnSessions(b.ctx, selfOf(laptop))
		require.NoError(t, err)
		require.True(t, got[0].Current)
		require.False(t, got[2].Current)
	})
}

// The list is bounded: a user with more sessions than MaxActiveSessions
// sees the most recently used ones.
func TestListOwnSessionsBounded(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		me := b.createCustomer(t, "many@example.com", "test-pw", true)
		var all []entity.ID
		var last *sessioncache.CachedSession
		for range session.MaxActiveSessions + 5 {
			b.clock.Advance(time.Second)
			last = b.sessionFrom(t, me, "", "")
			all = append(all, last.ID)
		}
		got, err := b.sessions.ListOwnSessions(b.ctx, selfOf(last))
		require.NoError(t, err)
		require.Len(t, got, session.MaxActiveSessions)
		require.Equal(t, last.ID, got[0].ID)
		require.NotContains(t, ids(got), all[4], "the oldest are left out")
		require.Contains(t, ids(got), all[5])
	})
}

// Ending one's own session: the token is refused at once; another user's
// session, an unknown id and an expired own session get the same answer
// (nothing ended) and the other user's session keeps working.
func TestRevokeOwnSession(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		me := b.createCustomer(t, "revoker@example.com", "test-pw", true)
		other := b.createCustomer(t, "bystander@example.com", "test-pw", true)
		current := b.sessionFrom(t, me, "", "")
		laptop := b.sessionFrom(t, me, "", "")
		expired := b.sessionFrom(t, me, "", "")
		b.setSessionColumn(t, expired.ID, "expires", b.clock.Now().Add(-time.Second).UTC())
		theirs := b.sessionFrom(t, other, "", "")
		// Both are cached: the revocation must reach the cache.
		for _, cs := range []*sessioncache.CachedSession{laptop, theirs} {
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
		}

		for name, id := range map[string]entity.ID{"another user's": theirs.ID, "unknown": 999999, "expired": expired.ID} {
			ended, err := b.sessions.RevokeOwnSession(b.ctx, selfOf(current), id)
			require.NoError(t, err, name)
			require.False(t, ended, name)
		}
		_, err := b.sessions.GetSessionFromToken(b.ctx, theirs.Token)
		require.NoError(t, err, "another user's session is not ended")
		require.NotNil(t, b.sessionRow(t, expired.Token), "an expired session is left to the clean-up")

		ended, err := b.sessions.RevokeOwnSession(b.ctx, selfOf(current), laptop.ID)
		require.NoError(t, err)
		require.True(t, ended)
		_, err = b.sessions.GetSessionFromToken(b.ctx, laptop.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
		ended, err = b.sessions.RevokeOwnSession(b.ctx, selfOf(current), laptop.ID)
		require.NoError(t, err)
		require.False(t, ended, "once")

		// The current session too (the resolver then clears its token).
		ended, err = b.sessions.RevokeOwnSession(b.ctx, selfOf(current), current.ID)
		require.NoError(t, err)
		require.True(t, ended)
		_, err = b.sessions.GetSessionFromToken(b.ctx, current.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
	})
}

// Ending the other sessions ends every live one but the caller's, and
// counts what the list showed.
func TestRevokeOtherOwnSessions(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		me := b.createCustomer(t, "everywhere@example.com", "test-pw", true)
		other := b.createCustomer(t, "elsewhere@example.com", "test-pw", true)
		current := b.sessionFrom(t, me, "", "")
		others := []*sessioncache.CachedSession{b.sessionFrom(t, me, "", ""), b.sessionFrom(t, me, "", "")}
		expired := b.sessionFrom(t, me, "", "")
		b.setSessionColumn(t, expired.ID, "expires", b.clock.Now().Add(-time.Second).UTC())
		theirs := b.sessionFrom(t, other, "", "")
		for _, cs := range others {
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
		}
		listed, err := b.sessions.ListOwnSessions(b.ctx, selfOf(current))
		require.NoError(t, err)
		require.Len(t, listed, 3)

		n, err := b.sessions.RevokeOtherOwnSessions(b.ctx, selfOf(current))
		require.NoError(t, err)
		require.Equal(t, len(listed)-1, n)
		for _, cs := range others {
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		}
		for _, cs := range []*sessioncache.CachedSession{current, theirs} {
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
		}
		n, err = b.sessions.RevokeOtherOwnSessions(b.ctx, selfOf(current))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// An administrator's own ends are in the audit log (Self.Audit); a
// customer's are not.
func TestRevokeOwnSessionsAudit(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		adminUser := b.createAdmin(t, "auditee@example.com", "test-pw", b.superRoleID)
		customer := b.createCustomer(t, "unaudited@example.com", "test-pw", true)
		admin := b.sessionFrom(t, adminUser, "", "")
		adminLaptop := b.sessionFrom(t, adminUser, "", "")
		b.sessionFrom(t, adminUser, "", "")
		cust := b.sessionFrom(t, customer, "", "")
		custLaptop := b.sessionFrom(t, customer, "", "")

		actor := audit.Actor{UserID: &adminUser, Identifier: "auditee@example.com", ClientAddress: "198.51.100.1"}
		self := selfOf(admin)
		self.Audit = &actor
		ended, err := b.sessions.RevokeOwnSession(b.ctx, self, adminLaptop.ID)
		require.NoError(t, err)
		require.True(t, ended)
		n, err := b.sessions.RevokeOtherOwnSessions(b.ctx, self)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ended, err = b.sessions.RevokeOwnSession(b.ctx, selfOf(cust), custLaptop.ID)
		require.NoError(t, err)
		require.True(t, ended)

		var rows []audit.Row
		require.NoError(t, b.db.NewSelect().Model(&rows).Order("id").Scan(context.Background()))
		var got []string
		for _, r := range rows {
			if r.Action == audit.SessionsEnded {
				require.Equal(t, adminUser, *r.ActorUserID)
				require.Equal(t, "198.51.100.1", r.ClientAddress)
				got = append(got, r.EntityType+" "+r.EntityID.String()+": "+r.Detail)
			}
		}
		require.Equal(t, []string{
			"Session " + adminLaptop.ID.String() + ": own session: 1 ended",
			"User " + adminUser.String() + ": own other sessions: 1 ended",
		}, got)
	})
}

// A caller without a logged-in session is refused, and nothing ends.
func TestOwnSessionsNeedAUser(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		me := b.createCustomer(t, "nobody-else@example.com", "test-pw", true)
		cs := b.sessionFrom(t, me, "", "")
		for _, self := range []session.Self{{}, {UserID: me}, {SessionID: cs.ID}} {
			_, err := b.sessions.ListOwnSessions(b.ctx, self)
			require.ErrorIs(t, err, outcome.ErrForbidden)
			_, err = b.sessions.RevokeOwnSession(b.ctx, self, cs.ID)
			require.ErrorIs(t, err, outcome.ErrForbidden)
			_, err = b.sessions.RevokeOtherOwnSessions(b.ctx, self)
			require.ErrorIs(t, err, outcome.ErrForbidden)
		}
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
	})
}
