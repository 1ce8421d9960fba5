package gqlutil_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

type fakeChannels struct{ ch *entity.Channel }

func (f fakeChannels) GetChannelFromToken(context.Context, string) (*entity.Channel, error) {
	return f.ch, nil
}

type fakeSessions struct {
	sessions map[string]*sessioncache.CachedSession
	created  atomic.Int32
}

func (f *fakeSessions) GetSessionFromToken(_ context.Context, token string) (*sessioncache.CachedSession, error) {
	if s, ok := f.sessions[token]; ok {
		return s, nil
	}
	return nil, outcome.ErrNotFound
}

func (f *fakeSessions) EnsureActiveChannel(_ context.Context, s *sessioncache.CachedSession, _ entity.ID) (*sessioncache.CachedSession, error) {
	return s, nil
}

func (f *fakeSessions) CreateAnonymousSession(context.Context, *entity.ID) (*sessioncache.CachedSession, error) {
	n := f.created.Add(1)
	return &sessioncache.CachedSession{ID: entity.ID(100 + n), Token: "anon"}, nil
}

// fieldResult is what a resolver saw.
type fieldResult struct {
	err                   error
	authorized, ownerOnly bool
}

// runFields runs one request whose root fields carry the given @allow lists
// in parallel, as gqlgen runs query fields, and returns what each saw.
func runFields(t *testing.T, sessions *fakeSessions, token string, fields [][]auth.Permission) ([]fieldResult, http.Header) {
	t.Helper()
	ch := &entity.Channel{ID: 1, Code: entity.DefaultChannelCode, DefaultCurrencyCode: "USD"}
	mw := requestctx.Middleware(requestctx.Config{
		APIType: auth.ShopAPI, Sessions: sessions, Channels: fakeChannels{ch}, UseBearer: true,
	})
	results := make([]fieldResult, len(fields))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i, perms := range fields {
			wg.Go(func() {
				_, err := gqlutil.Allow(r.Context(), nil, func(ctx context.Context) (any, error) {
					results[i] = fieldResult{
						authorized: requestctx.IsAuthorized(ctx),
						ownerOnly:  requestctx.AuthorizedAsOwnerOnly(ctx),
					}
					return true, nil
				}, perms)
				if err != nil {
					results[i].err = err
				}
			})
		}
		wg.Wait()
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return results, rec.Header()
}

// Vendure #2097: an Owner field and a public field in one document each keep
// their own authorizedAsOwnerOnly, however the fields interleave.
func TestAllowIsPerField(t *testing.T) {
	t.Parallel()
	owner := []auth.Permission{auth.Owner}
	public := []auth.Permission{auth.Public}
	for range 10 {
		sessions := &fakeSessions{}
		res, header := runFields(t, sessions, "", [][]auth.Permission{owner, public, owner, public})
		for i, r := range res {
			require.NoError(t, r.err)
			require.Equal(t, i%2 == 0, r.ownerOnly, "field %d", i)
			require.False(t, r.authorized)
		}
		require.EqualValues(t, 1, sessions.created.Load(), "one anonymous session per request")
		require.Equal(t, "anon", header.Get("vendure-auth-token"))
	}
}

func TestAllowDecisions(t *testing.T) {
	t.Parallel()
	customer := &sessioncache.CachedSession{ID: 1, User: &sessioncache.CachedUser{
		ID: 9, ChannelPermissions: sessioncache.NewPermissionSet([]sessioncache.ChannelPermissions{{ID: 1, Permissions: []auth.Permission{auth.Authenticated}}}),
	}}
	sessions := &fakeSessions{sessions: map[string]*sessioncache.CachedSession{"cust": customer}}

	res, _ := runFields(t, sessions, "cust", [][]auth.Permission{
		{auth.Authenticated}, {"UpdateOrder", auth.Owner}, {"ReadCatalog"}, {auth.Authenticated, auth.Owner},
	})
	require.Equal(t, fieldResult{authorized: true}, res[0])
	require.Equal(t, fieldResult{ownerOnly: true}, res[1])
	require.ErrorIs(t, res[2].err, outcome.ErrForbidden)
	require.Equal(t, fieldResult{authorized: true}, res[3])
	require.Zero(t, sessions.created.Load(), "a logged-in caller gets no anonymous session")

	res, header := runFields(t, sessions, "unknown-token", [][]auth.Permission{{auth.Authenticated}})
	require.ErrorIs(t, res[0].err, outcome.ErrForbidden)
	v, present := header["Vendure-Auth-Token"]
	require.True(t, present, "an unknown token is cleared")
	require.Equal(t, []string{""}, v)
}
