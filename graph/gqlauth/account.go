package gqlauth

import (
	"context"

	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The Shop API's account unions (schema/shop/account.graphqls) have members
// of this package: gqlgen generates each union as an interface of its
// Is<Union> method, which these methods satisfy. The Admin API has none of
// these unions and never calls them.

// IsRegisterCustomerAccountResult makes Success a member of that union.
func (*Success) IsRegisterCustomerAccountResult() {}

// IsRefreshCustomerVerificationResult makes Success a member of that union.
func (*Success) IsRefreshCustomerVerificationResult() {}

// IsUpdateCustomerPasswordResult makes Success a member of that union.
func (*Success) IsUpdateCustomerPasswordResult() {}

// IsRequestPasswordResetResult makes Success a member of that union.
func (*Success) IsRequestPasswordResetResult() {}

// IsVerifyCustomerAccountResult makes CurrentUser a member of that union.
func (*CurrentUser) IsVerifyCustomerAccountResult() {}

// IsResetPasswordResult makes CurrentUser a member of that union.
func (*CurrentUser) IsResetPasswordResult() {}

// IsUpdateCustomerPasswordResult makes InvalidCredentialsError a member of
// that union.
func (*InvalidCredentialsError) IsUpdateCustomerPasswordResult() {}

// LoginRequest describes the request to a login made by another flow than
// login itself (verifyCustomerAccount, resetPassword): its API, session,
// channel and client address.
func LoginRequest(ctx context.Context) account.LoginRequest {
	rc := requestctx.FromContext(ctx)
	return account.LoginRequest{
		API: rc.APIType(), Method: account.NativeStrategyName,
		Current: rc.Session(), ChannelID: rc.ChannelID(), ClientAddress: rc.ClientAddress(),
	}
}

// LoggedIn makes cs the request's session and sends its token back, as a
// successful login does, and returns its user. It returns nil, changing
// nothing, when the flow failed (err != nil).
func LoggedIn(ctx context.Context, cs *sessioncache.CachedSession, err error, rememberMe bool) *CurrentUser {
	if err != nil || cs == nil {
		return nil
	}
	requestctx.FromContext(ctx).SetSession(cs, rememberMe)
	return currentUser(cs.User)
}
