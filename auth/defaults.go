package auth

import "time"

// Vendure's defaults for how a session token travels and how long a session
// lives (its authOptions and apiOptions). They live here, in the leaf that
// requestctx, service, app and the test client all import, so each is
// written once: the packages that fill in a zero setting fall back to
// them, and app.WithDefaults reads them for the settings config leaves
// zero.
const (
	// DefaultAuthTokenHeaderKey is the response header that carries a new
	// session token (Vendure's authOptions.authTokenHeaderKey).
	DefaultAuthTokenHeaderKey = "vendure-auth-token"

	// DefaultChannelTokenKey is the header or query parameter that selects
	// a channel (Vendure's apiOptions.channelTokenKey).
	DefaultChannelTokenKey = "vendure-token"

	// DefaultCookieName is the session cookie's name (Vendure's
	// authOptions.cookieOptions.name).
	DefaultCookieName = "session"

	// Year is a year as Vendure's duration strings count it (the npm ms
	// package): 365.25 days, 31 557 600 000 ms.
	Year = 8766 * time.Hour

	// DefaultSessionDuration is how long a session lives unused (Vendure's
	// authOptions.sessionDuration, '1y').
	DefaultSessionDuration = Year

	// DefaultRememberMeDuration is the cookie lifetime after a rememberMe
	// login, and of a guest session's cookie: Vendure's one year.
	DefaultRememberMeDuration = Year

	// DefaultSessionCacheTTL is how long a cached session is trusted before
	// it is read again (Vendure's authOptions.sessionCacheTTL, 300 s).
	DefaultSessionCacheTTL = 300 * time.Second
)
