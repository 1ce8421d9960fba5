package shopapi

import (
	"errors"

	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// loginUnion is a member of both Shop login unions; the compiler checks
// that each value loginResult returns is one.
type loginUnion interface {
	model.NativeAuthenticationResult
	model.AuthenticationResult
}

// loginResult maps a login outcome to the Shop API's unions: what both APIs
// share (gqlauth.LoginResult), plus NotVerifiedError, which only the Shop
// API has.
func loginResult(cs *sessioncache.CachedSession, err error) (loginUnion, error) {
	if notVerified, ok := errors.AsType[*outcome.NotVerifiedError](err); ok {
		return &model.NotVerifiedError{ErrorCode: gqlauth.ErrorCodeNotVerifiedError, Message: notVerified.Error()}, nil
	}
	return gqlauth.LoginResult(cs, err)
}
