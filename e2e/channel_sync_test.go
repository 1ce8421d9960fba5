package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
)

// syncGuard bounds a wait for the instances' background sync (about a
// second); it guards against a hang and asserts nothing about time.
const syncGuard = 30 * time.Second

// syncGuardRounds is syncGuard counted in rounds of the background sync.
const syncGuardRounds = 30

// withMemoryCache gives an instance its own memory cache and no Redis.
func withMemoryCache() envOption {
	return func(c *config.Config) { c.SessionCacheStrategy, c.RedisURL = "memory", "" }
}

// shop returns a Shop API client of the instance on the given channel.
func (in *instance) shop(t *testing.T, channel string) *testenv.Client {
	c := testenv.NewClient(t, strings.TrimSuffix(in.url, app.AdminPath)+app.ShopPath, testenv.Bearer)
	c.Channel = channel
	return c
}

// activeChannel returns the code of the channel the instance resolves
// token to, or the error code it answers.
func (in *instance) activeChannel(t *testing.T, token string) string {
	r := in.shop(t, token).Do(`{ activeChannel { code } }`, nil)
	if len(r.Errors) > 0 {
		return r.ErrorCode()
	}
	var out struct {
		ActiveChannel struct{ Code string } `json:"activeChannel"`
	}
	r.Decode(t, &out)
	return out.ActiveChannel.Code
}

// An administrator changes a channel and a role on instance A; instance B,
// which had cached both, follows within its sync: it stops accepting the
// channel's old token (a token it knows, so no request would make it look),
// forgets the deleted channel, and answers a logged-in administrator with
// the role's new permissions. With Redis the role change reaches B through
// the shared cache (and with redis+memory, B's memory through A's
// announcement, applied at the latest when the marker of B's sync round comes back); with
// each instance's own memory cache, through B's sync clearing it.
func TestChannelAndRoleChangesReachOtherInstance(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{config.CacheRedis, config.CacheRedisMemory, config.CacheMemory} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			db := sharedDB(t)
			prefix := testenv.RandomPrefix()
			var a, b *instance
			if strategy == config.CacheMemory {
				a = newInstance(t, db, nil, prefix, withMemoryCache())
				b = newInstance(t, db, nil, prefix, withMemoryCache())
			} else {
				client, _ := testenv.Redis(t)
				a, b = newInstance(t, db, client, prefix, withStrategy(strategy)), newInstance(t, db, client, prefix, withStrategy(strategy))
			}
			ctx := context.Background()

			second, err := a.app.Channels.Create(ctx, access.NewChannel{Code: "second-channel", Token: "second-token"})
			require.NoError(t, err)
			editor, err := a.app.Roles.Create(ctx, access.NewRole{
				Code: "editor", Description: "editor", Permissions: []auth.Permission{"ReadCatalog"},
				ChannelIDs: []entity.ID{a.app.Channels.Default().ID},
			})
			require.NoError(t, err)
			_, err = a.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
				EmailAddress: "editor@example.com", Password: "test", RoleIDs: []entity.ID{editor.ID},
			})
			require.NoError(t, err)

			require.Equal(t, "second-channel", b.activeChannel(t, "second-token"))
			onB := b.admin(t, "")
			require.Equal(t, "CurrentUser", decodeLogin(t, onB.Do(loginMutation, creds("editor@example.com", "test"))).Login.Typename)
			permissionsOnB := func() []string {
				me := decodeMe(t, onB.Do(meQuery, nil)).Me
				require.NotNil(t, me)
				return me.Channels[0].Permissions
			}
			require.NotContains(t, permissionsOnB(), "ReadOrder")

			// Each change reaches B in the first round of its background
			// sync that begins after it.
			second.Token = "renamed"
			require.NoError(t, a.app.Channels.Update(ctx, second))
			b.synced(t)
			require.Equal(t, "CHANNEL_NOT_FOUND", b.activeChannel(t, "second-token"), "B still accepts the channel's old token")
			require.Equal(t, "second-channel", b.activeChannel(t, "renamed"))

			require.NoError(t, a.app.Roles.UpdatePermissions(ctx, editor.ID, []auth.Permission{"ReadCatalog", "ReadOrder"}))
			b.synced(t)
			require.Contains(t, permissionsOnB(), "ReadOrder", "B answers with the role's old permissions")

			require.NoError(t, a.app.Channels.Delete(ctx, second.ID))
			b.synced(t)
			require.Equal(t, entity.DefaultChannelCode, b.activeChannel(t, "renamed"), "B still knows the deleted channel")
			_, err = b.app.Channels.ByID(second.ID)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	}
}

// channelLoads is a bun query hook that counts the loads of the channel
// table and, while stalled, holds each until it is resumed, whatever its
// context: a database that does not answer.
type channelLoads struct {
	n     atomic.Int64
	mu    sync.Mutex
	stall chan struct{}
}

func (h *channelLoads) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !strings.Contains(e.Query, `FROM "channel" AS "ch"`) {
		return ctx
	}
	h.n.Add(1)
	h.mu.Lock()
	stall := h.stall
	h.mu.Unlock()
	if stall != nil {
		<-stall // deaf to ctx: no caller may depend on the load ending
	}
	return ctx
}

func (h *channelLoads) AfterQuery(context.Context, *bun.QueryEvent) {}

func (h *channelLoads) setStalled(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case on && h.stall == nil:
		h.stall = make(chan struct{})
	case !on && h.stall != nil:
		close(h.stall)
		h.stall = nil
	}
}

// The attack: 10,000 Shop API requests, each naming a random vendure-token,
// while the database does not answer the channel table. Each is answered
// CHANNEL_NOT_FOUND: the one that claimed a reload when its own deadline
// ends, every other at once from the snapshot. Together they cause one
// read of the channel table; a request naming a real channel is served
// meanwhile.
func TestRandomChannelTokensAgainstStalledDatabase(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		loads := &channelLoads{}
		// The request that claims the stalled reload waits until its
		// channel resolution's deadline, DB_QUERY_TIMEOUT: the default
		// here, not the harness's hang guard. No other request of this
		// test waits on the database.
		e := newEnvOn(t, b, testenv.DialectDB(t, b.dialect).WithQueryHook(loads), withDBQueryTimeout(database.DefaultQueryTimeout))
		ctx := context.Background()
		_, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "second-channel", Token: "second-token"})
		require.NoError(t, err)
		// Let a sync that overlapped the change finish: no load is pending.
		require.NoError(t, e.app.Sessions.SyncCache(ctx))
		before := loads.n.Load()

		loads.setStalled(true)
		t.Cleanup(func() { loads.setStalled(false) })
		url := e.srv.URL + app.ShopPath
		var wrong atomic.Value // the first answer that was not CHANNEL_NOT_FOUND
		var wg sync.WaitGroup
		const requests, workers = 10_000, 8
		// A request that hangs on the stalled database fails at the
		// client's timeout, and every worker stops at the first wrong
		// answer: the guard is per request, so how long the 10,000 take
		// on a loaded machine does not matter.
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: database.DefaultQueryTimeout + syncGuard}
		t.Cleanup(client.CloseIdleConnections)
		for range workers {
			wg.Go(func() {
				for range requests / workers {
					if wrong.Load() != nil {
						return
					}
					if code := channelErrorCode(client, url, rand.Text()); code != "CHANNEL_NOT_FOUND" {
						wrong.CompareAndSwap(nil, code)
						return
					}
				}
			})
		}
		wg.Wait()
		require.Nil(t, wrong.Load(), "every random token is CHANNEL_NOT_FOUND (\"transport\": a request hung on the stalled database)")
		require.EqualValues(t, 1, loads.n.Load()-before, "one read of the channel table for 10,000 random tokens")

		shop := e.shop(testenv.Bearer)
		shop.Channel = "second-token"
		r := shop.Do(`{ activeChannel { code } }`, nil)
		require.JSONEq(t, `{"activeChannel":{"code":"second-channel"}}`, string(r.Data), "a known channel is served from the snapshot")
	})
}

// channelErrorCode posts a channel query naming token and returns the
// first error code of the answer ("" if none, "transport" if it failed).
func channelErrorCode(client *http.Client, url, token string) string {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"query":"{ activeChannel { code } }"}`)))
	if err != nil {
		return "transport"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.DefaultChannelTokenKey, token)
	resp, err := client.Do(req)
	if err != nil {
		return "transport"
	}
	defer resp.Body.Close()
	var out struct {
		Errors []testenv.Error `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) == 0 {
		return ""
	}
	return out.Errors[0].Code()
}
