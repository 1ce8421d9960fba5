package gqlauth_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

func TestLoginResult(t *testing.T) {
	t.Parallel()
	cs := &sessioncache.CachedSession{User: &sessioncache.CachedUser{
		ID: 7, Identifier: "walker@example.com",
		ChannelPermissions: sessioncache.NewPermissionSet([]sessioncache.ChannelPermissions{{Code: "__default_channel__"}}),
	}}
	res, err := gqlauth.LoginResult(cs, nil)
	require.NoError(t, err)
	user, ok := res.(*gqlauth.CurrentUser)
	require.True(t, ok)
	require.Equal(t, "walker@example.com", user.Identifier)
	require.Same(t, cs.User.ChannelPermissions.At(0), user.Channels[0], "points at the cached channels, no copy")

	res, err = gqlauth.LoginResult(nil, fmt.Errorf("login: %w", &outcome.InvalidCredentialsError{AuthenticationError: "locked"}))
	require.NoError(t, err)
	require.Equal(t, &gqlauth.InvalidCredentialsError{Message: "The provided credentials are invalid", AuthenticationError: "locked"}, res)
	require.Equal(t, gqlauth.ErrorCode("INVALID_CREDENTIALS_ERROR"), res.(*gqlauth.InvalidCredentialsError).ErrorCode())

	// Not every API has a member for these: they are faults, which the
	// error presenter hides.
	for _, fault := range []error{&outcome.NotVerifiedError{}, errors.New("connection refused")} {
		res, err = gqlauth.LoginResult(nil, fault)
		require.Nil(t, res)
		require.Same(t, fault, err)
	}
}
