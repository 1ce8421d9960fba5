package requestctx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopsession/sessionserver/service/clientinfo"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Sessions is what the middleware needs of the session service.
type Sessions interface {
	// CreateAnonymousSession creates a guest session on a channel for a
	// client address (RequestContext.EnsureSession), or refuses it with an
	// error that has a RetryAfter() time.Duration method.
	CreateAnonymousSession(ctx context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error)
	// GetSessionFromToken returns the session of a token, or outcome.ErrNotFound.
	GetSessionFromToken(ctx context.Context, token string) (*sessioncache.CachedSession, error)
	// EnsureActiveChannel records the request's channel on the session.
	EnsureActiveChannel(ctx context.Context, s *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error)
}

// Channels resolves a request's channel token.
type Channels interface {
	// GetChannelFromToken returns the channel, or *outcome.ChannelNotFoundError.
	GetChannelFromToken(ctx context.Context, token string) (*entity.Channel, error)
}

// Config configures the middleware of one API.
type Config struct {
	APIType  auth.APIType
	Sessions Sessions
	Channels Channels
	Logger   *slog.Logger

	// UseCookie and UseBearer say how tokens travel (TOKEN_METHOD). When both
	// are on, a cookie token wins over a bearer token.
	UseCookie bool
	UseBearer bool
	// AuthTokenHeaderKey is the response header that carries a new token in
	// bearer mode. Defaults to "vendure-auth-token".
	AuthTokenHeaderKey string
	// ChannelTokenKey is the query parameter or header naming the channel.
	// Defaults to "vendure-token".
	ChannelTokenKey string
	// CookieName is the session cookie's name, the only one the token is
	// read from (with COOKIE_HOST_PREFIX, "__Host-session"). Defaults to
	// "session".
	CookieName string
	// CookieSecure says when the cookie is Secure (COOKIE_SECURE). The zero
	// value is SecureAuto.
	CookieSecure SecureMode
	// CookieSameSite is the cookie's SameSite attribute (COOKIE_SAMESITE).
	// The zero value means Lax. http.SameSiteNoneMode is needed by a
	// storefront on another site, and browsers accept it only on a Secure
	// cookie, which SecureAuto then always makes it.
	CookieSameSite http.SameSite
	// CookieDomain is the cookie's Domain attribute (COOKIE_DOMAIN); empty
	// means a host-only cookie.
	CookieDomain string
	// CookiePartitioned adds the Partitioned attribute (CHIPS): the browser
	// keeps the cookie in a jar of the top-level site that the request came
	// from, so a cross-site storefront keeps its session where third-party
	// cookies are blocked. Needs a Secure cookie, which SecureAuto then
	// always makes it.
	CookiePartitioned bool
	// OriginAllowed reports whether a browser page on origin (an Origin
	// header's value) may send requests authenticated by the session cookie
	// (the credentialed origins of CORS_ORIGINS); the API's own origin
	// always may (see refuseCrossOrigin). Nil accepts no other origin.
	OriginAllowed func(origin string) bool
	// RememberMeMaxAge is the cookie lifetime when rememberMe is true (and for
	// anonymous sessions). Defaults to 1 year.
	RememberMeMaxAge time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For header names the
	// client (TRUSTED_PROXIES); see RequestContext.ClientAddress. Empty:
	// the header is ignored.
	TrustedProxies []netip.Prefix
	// LookupTimeout bounds the session lookup, which runs detached from the
	// client's cancellation so a client hanging up cannot make the database
	// driver drop a pooled connection. Defaults to 5 s.
	LookupTimeout time.Duration

	// crossOrigin tells a browser's cross-origin request from another
	// (refuseCrossOrigin); it has no trusted origins of its own.
	crossOrigin *http.CrossOriginProtection
}

func (c *Config) withDefaults() {
	if c.AuthTokenHeaderKey == "" {
		c.AuthTokenHeaderKey = auth.DefaultAuthTokenHeaderKey
	}
	if c.ChannelTokenKey == "" {
		c.ChannelTokenKey = auth.DefaultChannelTokenKey
	}
	if c.CookieName == "" {
		c.CookieName = auth.DefaultCookieName
	}
	if c.RememberMeMaxAge <= 0 {
		c.RememberMeMaxAge = auth.DefaultRememberMeDuration
	}
	if c.LookupTimeout <= 0 {
		c.LookupTimeout = database.DefaultQueryTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.crossOrigin = http.NewCrossOriginProtection()
}

// Middleware builds the RequestContext of each request and sends token
// changes back before the response body.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	cfg.withDefaults()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc, status, gqlErr := build(r, &cfg)
			tw := &tokenWriter{ResponseWriter: w, rc: rc, cfg: &cfg, r: r}
			if gqlErr != nil {
				gqlerr.Write(tw, r, status, gqlErr)
				return
			}
			ctx := clientinfo.With(withContext(r.Context(), rc), clientinfo.Info{Address: rc.clientAddress, UserAgent: r.UserAgent()})
			next.ServeHTTP(tw, r.WithContext(ctx))
			tw.flush()
		})
	}
}

// build makes the RequestContext. On failure it returns the GraphQL error
// to answer with; rc is still usable for sending a cleared token.
//
// A cross-origin request carrying the session cookie is refused first
// (refuseCrossOrigin), before the channel and the session are looked up.
// Only a POST may create a session (see EnsureSession).
func build(r *http.Request, cfg *Config) (*RequestContext, int, *gqlerror.Error) {
	rc := &RequestContext{
		apiType: cfg.APIType, sessions: detached{cfg.Sessions}, clientAddress: clientAddressOf(r, cfg.TrustedProxies),
		noNewSession: r.Method != http.MethodPost,
	}
	cookie := cookieToken(r, cfg)
	if origin, refuse := refuseCrossOrigin(r, cfg, cookie != ""); refuse {
		cfg.Logger.InfoContext(r.Context(), "cross-origin request with the session cookie refused",
			"api", cfg.APIType, "method", r.Method, "origin", origin, "secFetchSite", r.Header.Get("Sec-Fetch-Site"))
		return rc, http.StatusForbidden, crossOriginRefusal()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), cfg.LookupTimeout)
	defer cancel()

	query := r.URL.Query()
	channelToken := query.Get(cfg.ChannelTokenKey)
	if channelToken == "" {
		channelToken = r.Header.Get(cfg.ChannelTokenKey)
	}
	ch, err := cfg.Channels.GetChannelFromToken(ctx, channelToken)
	if err != nil {
		var nf *outcome.ChannelNotFoundError
		if errors.As(err, &nf) {
			return rc, http.StatusOK, gqlerr.New(gqlerr.CodeChannelNotFound, nf.Error())
		}
		cfg.Logger.ErrorContext(ctx, "resolve channel", "err", err)
		return rc, http.StatusInternalServerError, gqlerr.New(gqlerr.CodeInternal, gqlerr.MsgInternal)
	}
	rc.channel = ch
	// Nothing reads a request's currency yet, but a currency the channel
	// does not offer is refused, as Vendure refuses it.
	if c := query.Get("currencyCode"); c != "" && !slices.Contains(ch.AvailableCurrencyCodes, entity.CurrencyCode(c)) {
		return rc, http.StatusOK, gqlerr.New(gqlerr.CodeUserInput, fmt.Sprintf("The currency %q is not available in the current Channel", c))
	}

	// The token per TOKEN_METHOD: the cookie first, then a bearer header;
	// empty values count as absent.
	rc.token = cookie
	if rc.token == "" {
		rc.token = bearerToken(r, cfg)
	}
	if rc.token == "" {
		return rc, 0, nil
	}
	s, err := cfg.Sessions.GetSessionFromToken(ctx, rc.token)
	switch {
	case errors.Is(err, outcome.ErrNotFound):
		// Unknown, expired or revoked: tell the client to drop it.
		rc.pending = &tokenUpdate{}
		return rc, 0, nil
	case err != nil:
		// The store failed: keep the client's token, fail this request.
		cfg.Logger.ErrorContext(ctx, "session lookup failed", "err", err)
		return rc, http.StatusServiceUnavailable, gqlerr.New(gqlerr.CodeInternal, gqlerr.MsgInternal)
	}
	if s.ActiveChannelID == nil || *s.ActiveChannelID != ch.ID {
		if updated, err := cfg.Sessions.EnsureActiveChannel(ctx, s, ch.ID); err != nil {
			cfg.Logger.WarnContext(ctx, "set active channel failed", "err", err)
		} else {
			s = updated
		}
	}
	rc.session = s
	return rc, 0, nil
}

// bearerToken is the token of an `Authorization: Bearer` header when
// TOKEN_METHOD reads bearer tokens, or "".
func bearerToken(r *http.Request, cfg *Config) string {
	if cfg.UseBearer {
		h := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
	}
	return ""
}

// cookieToken is the session cookie's value when TOKEN_METHOD reads
// cookies, or "".
func cookieToken(r *http.Request, cfg *Config) string {
	if cfg.UseCookie {
		if c, err := r.Cookie(cfg.CookieName); err == nil {
			return c.Value
		}
	}
	return ""
}

// detached runs anonymous-session creation apart from the client's
// cancellation, for the same reason as the lookup.
type detached struct{ Sessions }

func (d detached) CreateAnonymousSession(ctx context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error) {
	return d.Sessions.CreateAnonymousSession(context.WithoutCancel(ctx), channelID)
}

// tokenWriter writes a pending token change into the headers just before the
// status line goes out.
type tokenWriter struct {
	http.ResponseWriter
	rc  *RequestContext
	cfg *Config
	// r is the request answered: the cookie's Secure attribute depends on
	// it (Config.secureCookie).
	r       *http.Request
	flushed bool
}

func (w *tokenWriter) WriteHeader(code int) {
	w.flush()
	w.ResponseWriter.WriteHeader(code)
}

func (w *tokenWriter) Write(b []byte) (int, error) {
	w.flush()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *tokenWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *tokenWriter) flush() {
	if w.flushed {
		return
	}
	w.flushed = true
	if d := w.rc.takeRetryAfter(); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(d, 10))
	}
	p := w.rc.takePending()
	if p == nil {
		return
	}
	if w.cfg.UseBearer {
		w.Header().Set(w.cfg.AuthTokenHeaderKey, p.token)
	}
	if w.cfg.UseCookie {
		// Every Set-Cookie, the deletion included, carries the same
		// attributes: a browser deletes only the cookie with the same name,
		// Domain, Path and partition, and refuses a SameSite=None one that
		// is not Secure. Secure is decided per request, but alike for every
		// request to one host.
		sameSite := w.cfg.CookieSameSite
		if sameSite == 0 {
			sameSite = http.SameSiteLaxMode
		}
		c := &http.Cookie{
			Name: w.cfg.CookieName, Value: p.token, Path: "/", Domain: w.cfg.CookieDomain,
			HttpOnly: true, SameSite: sameSite, Secure: w.cfg.secureCookie(w.r), Partitioned: w.cfg.CookiePartitioned,
		}
		switch {
		case p.token == "":
			c.MaxAge = -1 // delete the cookie
		case p.rememberMe:
			c.MaxAge = int(w.cfg.RememberMeMaxAge / time.Second)
		}
		http.SetCookie(w, c)
	}
}
