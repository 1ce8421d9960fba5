package shopapi

import (
	"errors"

	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service"
	"github.com/shopsession/sessionserver/sessioncache"
)

// authResult maps a login outcome to the Shop API's result members: a
// CurrentUser, an ErrorResult for an expected failure, or a fault.
func authResult(cs *sessioncache.CachedSession, err error) (any, error) {
	var (
		invalid *service.InvalidCredentialsError
		notVer  *service.NotVerifiedError
		native  *service.NativeAuthStrategyError
	)
	switch {
	case err == nil:
		return currentUser(cs.User), nil
	case errors.As(err, &invalid):
		return &model.InvalidCredentialsError{ErrorCode: model.ErrorCodeInvalidCredentialsError, Message: invalid.Error(), AuthenticationError: invalid.AuthenticationError}, nil
	case errors.As(err, &notVer):
		return &model.NotVerifiedError{ErrorCode: model.ErrorCodeNotVerifiedError, Message: notVer.Error()}, nil
	case errors.As(err, &native):
		return &model.NativeAuthStrategyError{ErrorCode: model.ErrorCodeNativeAuthStrategyError, Message: native.Error()}, nil
	default:
		return nil, err
	}
}

func currentUser(u *sessioncache.CachedUser) *model.CurrentUser {
	return &model.CurrentUser{ID: u.ID, Identifier: u.Identifier, Channels: gqlutil.Channels(u)}
}
