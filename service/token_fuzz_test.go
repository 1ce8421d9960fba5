package service_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// statements is a bun query hook that counts every statement.
type statements struct{ n atomic.Int64 }

func (s *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	s.n.Add(1)
	return ctx
}

func (s *statements) AfterQuery(context.Context, *bun.QueryEvent) {}

// fuzzBundle is what the token fuzz targets run against: the session and
// channel services on a seeded SQLite database (a fuzz worker makes it
// once and runs every input on it), a memory cache behind a spy, counters
// of the statements and of the loads of the channel table, a live guest
// session and a second channel. The clock never moves.
type fuzzBundle struct {
	sessions   *session.Service
	channels   *access.ChannelService
	cache      *sessioncachetest.Spy
	statements *statements
	loads      *channelReads
	guest      *sessioncache.CachedSession
	second     *entity.Channel
}

func newFuzzBundle(tb testing.TB) *fuzzBundle {
	tb.Helper()
	ctx := context.Background()
	db := testenv.SQLiteDB(tb)
	clock := testenv.NewClock()
	hasher, err := password.NewBcrypt(4)
	require.NoError(tb, err)
	require.NoError(tb, seed.Seed(ctx, db, hasher, clock.Now(), seedConfig()))
	b := &fuzzBundle{statements: &statements{}, loads: newChannelReads()}
	hooked := db.WithQueryHook(b.statements).WithQueryHook(b.loads)
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(tb, err)
	b.cache = sessioncachetest.NewSpy(mem)
	b.sessions, err = session.New(session.Config{DB: hooked, Cache: b.cache, Logger: discardLog, NowFunc: clock.Now})
	require.NoError(tb, err)
	b.channels, err = access.NewChannelService(access.ChannelConfig{DB: hooked, Sessions: b.sessions, NowFunc: clock.Now})
	require.NoError(tb, err)
	require.NoError(tb, b.channels.Reload(ctx))
	b.second, err = b.channels.Create(ctx, access.NewChannel{Code: "second", Token: "second-token"})
	require.NoError(tb, err)
	b.guest, err = b.sessions.CreateAnonymousSession(ctx, nil)
	require.NoError(tb, err)
	return b
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// FuzzGetSessionFromToken looks up prefix + (the live guest session's token,
// or nothing) + suffix. It never panics, and never fails but with
// outcome.ErrNotFound: only the exact token of the session finds it (no
// trimming, no case folding), so a value with a control character or
// longer than session.MaxTokenLength is never accepted. An empty token or
// one longer than MaxTokenLength is refused before any cache or database
// access: whatever a client sends, its cost is bounded.
func FuzzGetSessionFromToken(f *testing.F) {
	b := newFuzzBundle(f)
	for _, s := range []struct {
		prefix string
		live   bool
		suffix string
	}{
		{"", true, ""}, {" ", true, ""}, {"", true, "\t"}, {"", true, "\x00"}, {"\r\n", true, ""}, {"Bearer ", true, ""},
		{"", false, ""}, {"", false, "x"}, {"", true, strings.Repeat("0", session.MaxTokenLength)},
		{strings.Repeat("a", session.MaxTokenLength), false, ""}, {strings.Repeat("a", session.MaxTokenLength+1), false, ""},
		{"\xff", true, ""}, {"", false, "' OR '1'='1"}, {"%", false, "%"}, {"", true, "\u200b"},
	} {
		f.Add(s.prefix, s.live, s.suffix)
	}
	f.Fuzz(func(t *testing.T, prefix string, live bool, suffix string) {
		token := prefix + suffix
		if live {
			token = prefix + b.guest.Token + suffix
		}
		statementsBefore, cacheBefore := b.statements.n.Load(), b.cache.Calls()
		got, err := b.sessions.GetSessionFromToken(t.Context(), token)
		if token == b.guest.Token {
			require.NoError(t, err)
			require.Equal(t, b.guest.ID, got.ID)
			require.Equal(t, token, got.Token)
			require.False(t, hasControl(got.Token))
			require.LessOrEqual(t, len(got.Token), session.MaxTokenLength)
			return
		}
		require.ErrorIs(t, err, outcome.ErrNotFound, "%q", token)
		require.Nil(t, got)
		if token == "" || len(token) > session.MaxTokenLength {
			require.Equal(t, statementsBefore, b.statements.n.Load(), "no database access for %d bytes", len(token))
			require.Equal(t, cacheBefore, b.cache.Calls(), "no cache access for %d bytes", len(token))
		}
	})
}

// FuzzGetChannelFromToken resolves any channel token with two channels.
// It never panics: an empty token is the default channel, a channel's own
// token is that channel (exactly: no trimming, no case folding), anything
// else is *outcome.ChannelNotFoundError naming the token, never another
// error or another channel. The clock never moves, so however many
// unknown tokens a worker tries, the channel table is read at most once
// for them: a flood of made-up tokens costs one read per interval.
func FuzzGetChannelFromToken(f *testing.F) {
	b := newFuzzBundle(f)
	loadsBefore := b.loads.count()
	for _, token := range []string{
		"", testChannelToken, "second-token", " second-token", "second-token\x00", "SECOND-TOKEN", "second",
		"\xff", strings.Repeat("t", session.MaxTokenLength+1), "' OR 1=1 --", "%",
	} {
		f.Add(token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ch, err := b.channels.GetChannelFromToken(t.Context(), token)
		switch token {
		case "":
			require.NoError(t, err)
			require.Same(t, b.channels.Default(), ch)
		case testChannelToken, b.second.Token:
			require.NoError(t, err)
			require.Equal(t, token, ch.Token)
		default:
			require.Nil(t, ch)
			var nf *outcome.ChannelNotFoundError
			require.True(t, errors.As(err, &nf), "%q: %v", token, err)
			require.Equal(t, token, nf.Token)
		}
		require.LessOrEqual(t, b.loads.count()-loadsBefore, int64(1), "one load of the table for unknown tokens, per interval")
	})
}
