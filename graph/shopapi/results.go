package shopapi

import (
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/sessioncache"
)

// loginUnion is a member of both Shop login unions; the compiler checks
// that each value loginResult returns is one.
type loginUnion interface {
	model.NativeAuthenticationResult
	model.AuthenticationResult
}

// loginResult maps a login's answer to the Shop API's unions: the
// CurrentUser both APIs share (gqlauth.LoginResult), or the member of the
// outcome (errorResult), NotVerifiedError included, which only the Shop API
// has.
func loginResult(cs *sessioncache.CachedSession, err error) (loginUnion, error) {
	if err != nil {
		return member[loginUnion](err)
	}
	return gqlauth.LoginResult(cs, nil)
}
