// Package requestctx builds the RequestContext of each HTTP request before
// GraphQL runs (Vendure's RequestContextService + the session part of its
// AuthGuard), carries it in context.Context, and sends a new or cleared
// session token back in the response header and/or cookie.
package requestctx

import (
	"context"
	"sync"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// RequestContext is what a resolver knows about the request: API, channel,
// client address, the token sent and the session. It is safe for
// concurrent use by the resolvers of one request.
type RequestContext struct {
	apiType auth.APIType
	channel *entity.Channel
	// clientAddress is the client's IP address (clientAddressOf).
	clientAddress string

	sessions sessionCreator
	// noNewSession is set on every request but a POST: EnsureSession
	// creates no session for it.
	noNewSession bool

	mu      sync.Mutex
	token   string // the token the client sent, "" if none
	session *sessioncache.CachedSession
	pending *tokenUpdate
	// retryAfter, when positive, goes back as a Retry-After header
	// (seconds).
	retryAfter int64
}

// sessionCreator is what EnsureSession needs of the session service.
type sessionCreator interface {
	CreateAnonymousSession(ctx context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error)
}

// tokenUpdate is a token to send back: "" clears the client's token.
type tokenUpdate struct {
	token      string
	rememberMe bool
}

// APIType returns the API of the request.
func (rc *RequestContext) APIType() auth.APIType { return rc.apiType }

// Channel returns the request's channel. It must not be modified.
func (rc *RequestContext) Channel() *entity.Channel { return rc.channel }

// ChannelID returns the id of the request's channel.
func (rc *RequestContext) ChannelID() entity.ID { return rc.channel.ID }

// ClientAddress returns the IP address of the client: the connection's
// peer (http.Request.RemoteAddr without the port), or, when that peer is
// one of Config.TrustedProxies (TRUSTED_PROXIES), the address its
// X-Forwarded-For names (see clientAddressOf). A header from any other peer
// is ignored: any client can send one.
func (rc *RequestContext) ClientAddress() string { return rc.clientAddress }

// SetRetryAfter asks for a Retry-After header of this many seconds on the
// response: a throttled field does this. The longest asked for wins.
func (rc *RequestContext) SetRetryAfter(seconds int64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.retryAfter = max(rc.retryAfter, seconds)
}

// takeRetryAfter returns the Retry-After to send, 0 for none.
func (rc *RequestContext) takeRetryAfter() int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.retryAfter
}

// Session returns the current session, or nil.
func (rc *RequestContext) Session() *sessioncache.CachedSession {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.session
}

// Token returns the raw token the client sent ("" if none). Logout uses it
// even when the session it names is gone.
func (rc *RequestContext) Token() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.token
}

// ActiveUserID returns the id of the logged-in user, if any.
func (rc *RequestContext) ActiveUserID() (entity.ID, bool) {
	s := rc.Session()
	if s == nil || s.User == nil {
		return 0, false
	}
	return s.User.ID, true
}

// SetSession replaces the request's session and sends its token to the
// client: login does this.
func (rc *RequestContext) SetSession(s *sessioncache.CachedSession, rememberMe bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.session = s
	rc.pending = &tokenUpdate{token: s.Token, rememberMe: rememberMe}
}

// ReplaceSession swaps the request's session for an updated copy of it (a
// new active order; a cache-only guest's new row id), so later fields of
// the request see the change. The token is the same, so nothing is sent
// back; a session other than the request's (another token) is ignored.
func (rc *RequestContext) ReplaceSession(s *sessioncache.CachedSession) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.session != nil && s != nil && rc.session.Token == s.Token {
		rc.session = s
	}
}

// ClearSession drops the request's session and clears the client's token:
// logout and an invalid token do this.
func (rc *RequestContext) ClearSession() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.session = nil
	rc.pending = &tokenUpdate{}
}

// EnsureSession returns the request's session, creating an anonymous one
// when there is none (Vendure does this for fields that allow Owner). Within
// one request at most one anonymous session is created, even when several
// fields ask at once. The new token goes back with a long-lived cookie.
// Too many new guest sessions from the client's address is a
// *outcome.TooManyRequestsError, sent as any throttled call's.
//
// Only a POST gets a new session. On any other request (a GET query)
// EnsureSession returns nil and no error, and the field answers as for a
// caller without a session (activeOrder and activeCustomer are null, me is
// FORBIDDEN): a GET can be sent by any page, a link or an image, and is
// the request a cache might keep, so it sets no cookie and writes nothing.
func (rc *RequestContext) EnsureSession(ctx context.Context) (*sessioncache.CachedSession, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.session != nil || rc.noNewSession {
		return rc.session, nil
	}
	channelID := rc.channel.ID
	s, err := rc.sessions.CreateAnonymousSession(ctx, &channelID)
	if err != nil {
		return nil, err
	}
	rc.session = s
	rc.pending = &tokenUpdate{token: s.Token, rememberMe: true}
	return s, nil
}

// takePending returns and forgets the token update to send, if any.
func (rc *RequestContext) takePending() *tokenUpdate {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := rc.pending
	rc.pending = nil
	return p
}

type ctxKey struct{}

type fieldAuthKey struct{}

// withContext returns ctx carrying rc.
func withContext(ctx context.Context, rc *RequestContext) context.Context {
	return context.WithValue(ctx, ctxKey{}, rc)
}

// FromContext returns the RequestContext of ctx, or nil outside a request.
func FromContext(ctx context.Context) *RequestContext {
	rc, _ := ctx.Value(ctxKey{}).(*RequestContext)
	return rc
}

// fieldAuth is the outcome of @allow for one root field.
type fieldAuth struct {
	authorized bool
	ownerOnly  bool
}

// WithFieldAuth records, for one root field, Vendure's isAuthorized (the
// user holds one of the field's permissions on this channel) and
// authorizedAsOwnerOnly (allowed only because the field allows Owner). It is
// kept per field so that parallel root fields cannot overwrite each other
// (vendure#2097).
func WithFieldAuth(ctx context.Context, authorized, ownerOnly bool) context.Context {
	switch {
	case authorized && ownerOnly:
		return context.WithValue(ctx, fieldAuthKey{}, authBoth)
	case authorized:
		return context.WithValue(ctx, fieldAuthKey{}, authAuthorized)
	case ownerOnly:
		return context.WithValue(ctx, fieldAuthKey{}, authOwnerOnly)
	default:
		return ctx // the zero value: nothing to record
	}
}

// The three non-zero outcomes, boxed once: WithFieldAuth runs for every
// root field of every request.
var (
	authAuthorized any = fieldAuth{authorized: true}
	authOwnerOnly  any = fieldAuth{ownerOnly: true}
	authBoth       any = fieldAuth{authorized: true, ownerOnly: true}
)

// IsAuthorized reports whether the user holds one of the current root
// field's permissions on the request's channel.
func IsAuthorized(ctx context.Context) bool {
	v, _ := ctx.Value(fieldAuthKey{}).(fieldAuth)
	return v.authorized
}

// AuthorizedAsOwnerOnly reports whether the current root field was allowed
// only through Owner: its resolver must check ownership.
func AuthorizedAsOwnerOnly(ctx context.Context) bool {
	v, _ := ctx.Value(fieldAuthKey{}).(fieldAuth)
	return v.ownerOnly
}
