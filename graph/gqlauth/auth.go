package gqlauth

import (
	"context"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Login authenticates with the native strategy and, on success, makes the
// new session the request's and sends its token back. Map its outcome with
// LoginResult.
func Login(ctx context.Context, a *account.AuthService, username, password string, rememberMe *bool) (*sessioncache.CachedSession, error) {
	return login(ctx, a, &account.Credentials{Username: username, Password: password}, rememberMe)
}

// Authenticate runs the strategy the input names (see Login). The native
// strategy is the only one; an input without it is invalid credentials.
func Authenticate(ctx context.Context, a *account.AuthService, input AuthenticationInput, rememberMe *bool) (*sessioncache.CachedSession, error) {
	var creds *account.Credentials
	if input.Native != nil {
		creds = &account.Credentials{Username: input.Native.Username, Password: input.Native.Password}
	}
	return login(ctx, a, creds, rememberMe)
}

func login(ctx context.Context, a *account.AuthService, creds *account.Credentials, rememberMe *bool) (*sessioncache.CachedSession, error) {
	rc := requestctx.FromContext(ctx)
	cs, err := a.Authenticate(ctx, account.LoginRequest{
		API: rc.APIType(), Method: account.NativeStrategyName, Native: creds,
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
func Logout(ctx context.Context, a *account.AuthService) (*Success, error) {
	rc := requestctx.FromContext(ctx)
	token := rc.Token()
	if token == "" {
		return &Success{Success: false}, nil
	}
	if err := a.DestroyAuthenticatedSession(ctx, token); err != nil {
		return nil, err
	}
	rc.ClearSession()
	return &Success{Success: true}, nil
}

// Me returns the logged-in user from the session. On the Admin API the user
// must be an administrator. Otherwise it fails with FORBIDDEN.
func Me(ctx context.Context) (*CurrentUser, error) {
	rc := requestctx.FromContext(ctx)
	s := rc.Session()
	if s == nil || s.User == nil {
		return nil, outcome.ErrForbidden
	}
	if rc.APIType() == auth.AdminAPI && !s.User.IsAdministrator {
		return nil, outcome.ErrForbidden
	}
	return currentUser(s.User), nil
}

// currentUser points the result's channels at the cached user's, without
// copying them (they are read-only; see sessioncache.PermissionSet).
func currentUser(u *sessioncache.CachedUser) *CurrentUser {
	channels := make([]*sessioncache.Channel, u.ChannelPermissions.Len())
	for i := range channels {
		channels[i] = u.ChannelPermissions.At(i)
	}
	return &CurrentUser{ID: u.ID, Identifier: u.Identifier, Channels: channels}
}
