package gqlauth

import (
	"errors"

	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// LoginResult maps the outcome of Login or Authenticate to what both APIs'
// login unions share: a CurrentUser, an InvalidCredentialsError, or a fault
// (returned as the error, which the error presenter hides).
//
// A *outcome.NotVerifiedError is a fault here: only the Shop API has a
// union member for it, and it maps it before calling LoginResult. Vendure's
// Admin API fails the same way for an unverified administrator.
func LoginResult(cs *sessioncache.CachedSession, err error) (Result, error) {
	if err == nil {
		return currentUser(cs.User), nil
	}
	if invalid, ok := errors.AsType[*outcome.InvalidCredentialsError](err); ok {
		return &InvalidCredentialsError{Message: invalid.Error(), AuthenticationError: invalid.AuthenticationError}, nil
	}
	return nil, err
}
