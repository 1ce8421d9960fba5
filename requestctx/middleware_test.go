package requestctx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// fakeSessions stands in for the session service: a fixed set of tokens,
// or err for every lookup.
type fakeSessions struct {
	mu       sync.Mutex
	sessions map[string]*sessioncache.CachedSession
	err      error
	lookups  []string
	ensured  []entity.ID
	created  int
}

func (f *fakeSessions) GetSessionFromToken(_ context.Context, token string) (*sessioncache.CachedSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, token)
	if f.err != nil {
		return nil, f.err
	}
	if s, ok := f.sessions[token]; ok {
		return s, nil
	}
	return nil, outcome.ErrNotFound
}

func (f *fakeSessions) EnsureActiveChannel(_ context.Context, s *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensured = append(f.ensured, channelID)
	updated := *s
	updated.ActiveChannelID = &channelID
	return &updated, nil
}

func (f *fakeSessions) CreateAnonymousSession(_ context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	return &sessioncache.CachedSession{ID: 100, Token: "anon-token", ActiveChannelID: channelID}, nil
}

// fakeChannels resolves channel tokens as the channel service's port
// promises: a known token's channel, "" the default, otherwise err (a
// *outcome.ChannelNotFoundError unless set). It records what it was asked.
type fakeChannels struct {
	mu      sync.Mutex
	byToken map[string]*entity.Channel
	err     error
	asked   []string
}

func (f *fakeChannels) GetChannelFromToken(_ context.Context, token string) (*entity.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, token)
	if c, ok := f.byToken[token]; ok {
		return c, nil
	}
	if f.err != nil {
		return nil, f.err
	}
	return nil, &outcome.ChannelNotFoundError{Token: token}
}

var (
	defaultChannel = &entity.Channel{ID: 1, Code: entity.DefaultChannelCode, Token: "default-token",
		DefaultCurrencyCode: "USD", AvailableCurrencyCodes: entity.CurrencyCodes{"USD", "EUR"}}
	secondChannel = &entity.Channel{ID: 2, Code: "second", Token: "second-token", DefaultCurrencyCode: "EUR"}
)

// bundle is one middleware over fakes; seen is the RequestContext the next
// handler got (nil when it was not called).
type bundle struct {
	sessions *fakeSessions
	channels *fakeChannels
	cfg      requestctx.Config
	seen     *requestctx.RequestContext
}

func newBundle(configure func(*requestctx.Config)) *bundle {
	b := &bundle{
		sessions: &fakeSessions{sessions: map[string]*sessioncache.CachedSession{
			"good": {ID: 7, Token: "good", ActiveChannelID: &defaultChannel.ID, User: &sessioncache.CachedUser{ID: 9}},
		}},
		channels: &fakeChannels{byToken: map[string]*entity.Channel{
			"": defaultChannel, defaultChannel.Token: defaultChannel, secondChannel.Token: secondChannel,
		}},
	}
	b.cfg = requestctx.Config{APIType: auth.ShopAPI, Sessions: b.sessions, Channels: b.channels, UseCookie: true, UseBearer: true}
	if configure != nil {
		configure(&b.cfg)
	}
	return b
}

// serve runs req through the middleware; the next handler records the
// RequestContext, runs do (if any) and answers 200 "ok".
func (b *bundle) serve(req *http.Request, do func(ctx context.Context, rc *requestctx.RequestContext)) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	requestctx.Middleware(b.cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.seen = requestctx.FromContext(r.Context())
		if do != nil {
			do(r.Context(), b.seen)
		}
		_, _ = w.Write([]byte("ok"))
	})).ServeHTTP(rec, req)
	return rec
}

func request(headers map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// The token is read per TOKEN_METHOD: the session cookie, the Authorization
// Bearer header, or both, the cookie winning. Anything else is no token.
func TestTokenExtraction(t *testing.T) {
	t.Parallel()
	const cookie, bearer, both = "cookie", "bearer", "both"
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		want    string
	}{
		{"cookie", cookie, map[string]string{"Cookie": "session=c1"}, "c1"},
		{"cookie mode ignores bearer", cookie, map[string]string{"Authorization": "Bearer b1"}, ""},
		{"bearer", bearer, map[string]string{"Authorization": "Bearer b1"}, "b1"},
		{"bearer mode ignores the cookie", bearer, map[string]string{"Cookie": "session=c1"}, ""},
		{"both: cookie wins", both, map[string]string{"Cookie": "session=c1", "Authorization": "Bearer b1"}, "c1"},
		{"both: bearer alone", both, map[string]string{"Authorization": "Bearer b1"}, "b1"},
		{"both: cookie alone", both, map[string]string{"Cookie": "session=c1"}, "c1"},
		{"both: empty cookie counts as absent", both, map[string]string{"Cookie": "session=", "Authorization": "Bearer b1"}, "b1"},
		{"other cookie names are not the token", both, map[string]string{"Cookie": "sessionx=c1; other=c2"}, ""},
		{"scheme is case-insensitive, token trimmed", bearer, map[string]string{"Authorization": "bEARER   b1  "}, "b1"},
		{"no token after the scheme", bearer, map[string]string{"Authorization": "Bearer"}, ""},
		{"only spaces after the scheme", bearer, map[string]string{"Authorization": "Bearer    "}, ""},
		{"no space after the scheme", bearer, map[string]string{"Authorization": "Bearerb1"}, ""},
		{"another scheme", bearer, map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, ""},
		{"a bare token", bearer, map[string]string{"Authorization": "b1"}, ""},
		// The auth token header is where a new token goes out; a request
		// sends its token as Bearer, as a Vendure storefront does.
		{"the auth token header is not read", both, map[string]string{"vendure-auth-token": "h1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(func(c *requestctx.Config) {
				c.UseCookie = tc.method != bearer
				c.UseBearer = tc.method != cookie
			})
			rec := b.serve(request(tc.headers), nil)
			require.Equal(t, http.StatusOK, rec.Code)
			require.NotNil(t, b.seen)
			require.Equal(t, tc.want, b.seen.Token())
			if tc.want == "" {
				require.Empty(t, b.sessions.lookups, "no token, no lookup")
			} else {
				require.Equal(t, []string{tc.want}, b.sessions.lookups)
			}
		})
	}
}

// The configured cookie name and response header key are the ones used.
func TestConfiguredNames(t *testing.T) {
	t.Parallel()
	b := newBundle(func(c *requestctx.Config) {
		c.CookieName = "sid"
		c.AuthTokenHeaderKey = "x-auth"
	})
	b.serve(request(map[string]string{"Cookie": "session=ignored; sid=good"}), nil)
	require.Equal(t, "good", b.seen.Token())
	require.NotNil(t, b.seen.Session())

	rec := b.serve(request(nil), func(_ context.Context, rc *requestctx.RequestContext) {
		rc.SetSession(&sessioncache.CachedSession{ID: 8, Token: "new"}, false)
	})
	require.Equal(t, "new", rec.Header().Get("x-auth"))
	require.Empty(t, rec.Header().Values("vendure-auth-token"))
	require.Equal(t, "sid", rec.Result().Cookies()[0].Name)
}

// A known token's session becomes the request's and is moved to the
// request's channel; an unknown one is cleared on the client; a failed
// lookup fails the request (503) and keeps the client's token.
func TestSessionLookup(t *testing.T) {
	t.Parallel()
	t.Run("Known", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		req := request(map[string]string{"Authorization": "Bearer good", "vendure-token": secondChannel.Token})
		req.RemoteAddr = "[2001:db8::1]:443"
		rec := b.serve(req, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, entity.ID(7), b.seen.Session().ID)
		id, ok := b.seen.ActiveUserID()
		require.True(t, ok)
		require.Equal(t, entity.ID(9), id)
		require.Equal(t, []entity.ID{secondChannel.ID}, b.sessions.ensured)
		require.Equal(t, secondChannel.ID, *b.seen.Session().ActiveChannelID)
		require.Equal(t, "2001:db8::1", b.seen.ClientAddress())
		require.Equal(t, auth.ShopAPI, b.seen.APIType())
		require.Empty(t, rec.Header().Values("vendure-auth-token"), "nothing to send back")
		require.Empty(t, rec.Result().Cookies())

		b.serve(request(map[string]string{"Authorization": "Bearer good"}), nil)
		require.Len(t, b.sessions.ensured, 1, "already on the default channel")
	})
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		rec := b.serve(request(map[string]string{"Cookie": "session=gone"}), nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Nil(t, b.seen.Session())
		require.Equal(t, "gone", b.seen.Token(), "logout still sees it")
		require.Equal(t, []string{""}, rec.Header().Values("vendure-auth-token"))
		c := rec.Result().Cookies()
		require.Len(t, c, 1)
		require.Equal(t, "session", c[0].Name)
		require.Empty(t, c[0].Value)
		require.Equal(t, -1, c[0].MaxAge)
	})
	t.Run("StoreFails", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		b.sessions.err = errors.New("dial tcp 10.0.0.7:5432: connection refused")
		rec := b.serve(request(map[string]string{"Authorization": "Bearer good"}), nil)
		require.Nil(t, b.seen, "GraphQL does not run")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.JSONEq(t, `{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`, rec.Body.String())
		require.Empty(t, rec.Header().Values("vendure-auth-token"), "the token is kept")
		require.Empty(t, rec.Result().Cookies())
	})
}

// The channel token comes from the query parameter, else the header (the
// configured key); the request's channel is what the Channels port returns
// for it: with one channel the channel service answers every token with
// the default channel (service tests cover that rule), with several an
// unknown token is CHANNEL_NOT_FOUND before GraphQL runs.
func TestChannelSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target string
		headers      map[string]string
		key          string
		asked        string
		want         *entity.Channel
	}{
		{"none", "/shop-api", nil, "", "", defaultChannel},
		{"header", "/shop-api", map[string]string{"vendure-token": "second-token"}, "", "second-token", secondChannel},
		{"query", "/shop-api?vendure-token=second-token", nil, "", "second-token", secondChannel},
		{"query before header", "/shop-api?vendure-token=default-token", map[string]string{"vendure-token": "second-token"}, "", "default-token", defaultChannel},
		{"configured key", "/shop-api", map[string]string{"x-channel": "second-token", "vendure-token": "default-token"}, "x-channel", "second-token", secondChannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(func(c *requestctx.Config) { c.ChannelTokenKey = tc.key })
			req := httptest.NewRequest(http.MethodPost, tc.target, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			require.Equal(t, http.StatusOK, b.serve(req, nil).Code)
			require.Equal(t, []string{tc.asked}, b.channels.asked)
			require.Same(t, tc.want, b.seen.Channel())
			require.Equal(t, tc.want.ID, b.seen.ChannelID())
		})
	}

	t.Run("OneChannelFallback", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		b.channels.byToken["no-such-channel"] = defaultChannel // what the service answers with one channel
		b.serve(request(map[string]string{"vendure-token": "no-such-channel"}), nil)
		require.Same(t, defaultChannel, b.seen.Channel())
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		rec := b.serve(request(map[string]string{"vendure-token": "no-such-channel", "Authorization": "Bearer good"}), nil)
		require.Nil(t, b.seen, "GraphQL does not run")
		require.Equal(t, http.StatusOK, rec.Code, "as Vendure answers it")
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.JSONEq(t, `{"errors":[{"message":"No Channel with the token \"no-such-channel\" could be found","extensions":{"code":"CHANNEL_NOT_FOUND"}}],"data":null}`, rec.Body.String())
		require.Empty(t, b.sessions.lookups, "the session is not looked up")
	})

	t.Run("StoreFails", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		b.channels.err = errors.New("relation \"channel\" does not exist")
		rec := b.serve(request(map[string]string{"vendure-token": "other", "Accept": "application/graphql-response+json"}), nil)
		require.Nil(t, b.seen)
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		require.Equal(t, "application/graphql-response+json", rec.Header().Get("Content-Type"), "the media type Accept asks for")
		require.JSONEq(t, `{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`, rec.Body.String())
	})

	t.Run("Currency", func(t *testing.T) {
		t.Parallel()
		b := newBundle(nil)
		require.Equal(t, http.StatusOK, b.serve(httptest.NewRequest(http.MethodPost, "/shop-api?currencyCode=EUR", nil), nil).Code)
		require.NotNil(t, b.seen)

		b.seen = nil
		rec := b.serve(httptest.NewRequest(http.MethodPost, "/shop-api?currencyCode=GBP", nil), nil)
		require.Nil(t, b.seen)
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `{"errors":[{"message":"The currency \"GBP\" is not available in the current Channel","extensions":{"code":"USER_INPUT_ERROR"}}],"data":null}`, rec.Body.String())
	})
}

// A token change goes back per TOKEN_METHOD before the body: logout clears
// the cookie (same attributes, Max-Age<0) and sends an empty header; login
// sends the new token, with a one-year cookie only when rememberMe.
func TestTokenChangesGoBack(t *testing.T) {
	t.Parallel()
	login := func(rememberMe bool) func(context.Context, *requestctx.RequestContext) {
		return func(_ context.Context, rc *requestctx.RequestContext) {
			rc.SetSession(&sessioncache.CachedSession{ID: 8, Token: "new"}, rememberMe)
		}
	}
	logout := func(_ context.Context, rc *requestctx.RequestContext) { rc.ClearSession() }
	cookieOf := func(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
		t.Helper()
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1)
		return cookies[0]
	}

	t.Run("Cookie", func(t *testing.T) {
		t.Parallel()
		b := newBundle(func(c *requestctx.Config) {
			c.UseBearer = false
			c.CookieSecure = requestctx.SecureAlways
			c.CookieSameSite = http.SameSiteNoneMode
			c.CookieDomain = "shop.example"
			c.CookiePartitioned = true
		})
		rec := b.serve(request(nil), login(false))
		c := cookieOf(t, rec)
		require.Equal(t, "new", c.Value)
		require.Zero(t, c.MaxAge, "a browser-session cookie")
		require.Empty(t, rec.Header().Values("vendure-auth-token"), "no header in cookie mode")

		rec = b.serve(request(nil), login(true))
		require.Equal(t, 31557600, cookieOf(t, rec).MaxAge, "365.25 days")

		rec = b.serve(request(map[string]string{"Cookie": "session=good"}), logout)
		c = cookieOf(t, rec)
		require.Empty(t, c.Value)
		require.Equal(t, -1, c.MaxAge)
		require.Nil(t, b.seen.Session())
		// A browser deletes only the cookie with the same attributes.
		require.Equal(t, "/", c.Path)
		require.Equal(t, "shop.example", c.Domain)
		require.True(t, c.HttpOnly)
		require.True(t, c.Secure)
		require.Equal(t, http.SameSiteNoneMode, c.SameSite)
		require.True(t, c.Partitioned)
	})

	t.Run("Bearer", func(t *testing.T) {
		t.Parallel()
		b := newBundle(func(c *requestctx.Config) { c.UseCookie = false })
		rec := b.serve(request(nil), login(false))
		require.Equal(t, []string{"new"}, rec.Header().Values("vendure-auth-token"))
		require.Empty(t, rec.Result().Cookies(), "no cookie in bearer mode")

		rec = b.serve(request(map[string]string{"Authorization": "Bearer good"}), logout)
		require.Equal(t, []string{""}, rec.Header().Values("vendure-auth-token"))
	})

	t.Run("BothDefaults", func(t *testing.T) {
		t.Parallel()
		b := newBundle(func(c *requestctx.Config) { c.RememberMeMaxAge = time.Hour })
		rec := b.serve(request(map[string]string{"Cookie": "session=good"}), logout)
		require.Equal(t, []string{""}, rec.Header().Values("vendure-auth-token"))
		c := cookieOf(t, rec)
		require.Equal(t, -1, c.MaxAge)
		require.Equal(t, http.SameSiteLaxMode, c.SameSite, "Lax unless configured")
		require.True(t, c.Secure, "Secure for a request to example.com (see TestSecureCookie)")
		require.Empty(t, c.Domain)

		rec = b.serve(request(nil), login(true))
		require.Equal(t, 3600, cookieOf(t, rec).MaxAge)
	})
}

// EnsureSession gives a request without a session one anonymous session,
// however many fields ask at once, on the request's channel; its token goes
// back with a long-lived cookie. A request with a session keeps it.
func TestEnsureSession(t *testing.T) {
	t.Parallel()
	b := newBundle(nil)
	rec := b.serve(request(map[string]string{"vendure-token": secondChannel.Token}), func(ctx context.Context, rc *requestctx.RequestContext) {
		var wg sync.WaitGroup
		tokens := make([]string, 8)
		for i := range tokens {
			wg.Go(func() {
				if s, err := rc.EnsureSession(ctx); err == nil {
					tokens[i] = s.Token
				}
			})
		}
		wg.Wait()
		require.Equal(t, slices.Repeat([]string{"anon-token"}, 8), tokens)
	})
	require.Equal(t, 1, b.sessions.created)
	require.Equal(t, secondChannel.ID, *b.seen.Session().ActiveChannelID)
	require.Equal(t, []string{"anon-token"}, rec.Header().Values("vendure-auth-token"))
	c := rec.Result().Cookies()
	require.Len(t, c, 1)
	require.Equal(t, 31557600, c[0].MaxAge)

	rec = b.serve(request(map[string]string{"Authorization": "Bearer good"}), func(ctx context.Context, rc *requestctx.RequestContext) {
		s, err := rc.EnsureSession(ctx)
		require.NoError(t, err)
		require.Equal(t, entity.ID(7), s.ID)
	})
	require.Equal(t, 1, b.sessions.created, "no second session")
	require.Empty(t, rec.Header().Values("vendure-auth-token"))
}

// Outside a request there is no RequestContext.
func TestFromContextOutsideARequest(t *testing.T) {
	t.Parallel()
	require.Nil(t, requestctx.FromContext(context.Background()))
}
