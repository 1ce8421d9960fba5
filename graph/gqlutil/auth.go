package gqlutil

import (
	"context"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The auth operations below are shared by both APIs; each API's resolvers
// only map the outcome to its own union types.

// Login authenticates with the native strategy and, on success, makes the
// new session the request's and sends its token back.
func Login(ctx context.Context, a *service.AuthService, username, password string, rememberMe *bool) (*sessioncache.CachedSession, error) {
	return Authenticate(ctx, a, service.NativeStrategyName, &service.Credentials{Username: username, Password: password}, rememberMe)
}

// Authenticate runs the named strategy (see Login).
func Authenticate(ctx context.Context, a *service.AuthService, method string, creds *service.Credentials, rememberMe *bool) (*sessioncache.CachedSession, error) {
	rc := requestctx.FromContext(ctx)
	cs, err := a.Authenticate(ctx, service.LoginRequest{
		API: rc.APIType(), Method: method, Native: creds,
		Current: rc.Session(), ChannelID: rc.ChannelID(), ClientAddress: rc.ClientAddress(),
	})
	if err != nil {
		return nil, err
	}
	rc.SetSession(cs, rememberMe != nil && *rememberMe)
	return cs, nil
}

// Logout ends the user's authenticated sessions and clears the client's
// token. It reports false when the request carried no token.
func Logout(ctx context.Context, a *service.AuthService) (bool, error) {
	rc := requestctx.FromContext(ctx)
	token := rc.Token()
	if token == "" {
		return false, nil
	}
	if err := a.DestroyAuthenticatedSession(ctx, token); err != nil {
		return false, err
	}
	rc.ClearSession()
	return true, nil
}

// Me returns the logged-in user from the session. On the Admin API the user
// must be an administrator. Otherwise it fails with FORBIDDEN.
func Me(ctx context.Context) (*sessioncache.CachedUser, error) {
	rc := requestctx.FromContext(ctx)
	s := rc.Session()
	if s == nil || s.User == nil {
		return nil, service.ErrForbidden
	}
	if rc.APIType() == auth.AdminAPI && !s.User.IsAdministrator {
		return nil, service.ErrForbidden
	}
	return s.User, nil
}

// Channels returns a user's channel permissions as the pointers the
// generated CurrentUser wants. The elements must not be modified.
func Channels(u *sessioncache.CachedUser) []*sessioncache.ChannelPermissions {
	out := make([]*sessioncache.ChannelPermissions, len(u.ChannelPermissions))
	for i := range u.ChannelPermissions {
		out[i] = &u.ChannelPermissions[i]
	}
	return out
}
