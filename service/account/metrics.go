package account

import (
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/service/outcome"
)

// LoginRecorder receives the result of each login attempt (Authenticate),
// for metrics (package internal/metrics implements it). AuthConfig.Metrics
// nil records nothing.
type LoginRecorder interface {
	LoginAttempt(api auth.APIType, r LoginResult)
}

// LoginResult is how a login attempt ended.
type LoginResult uint8

// The results of a login attempt.
const (
	// LoginSuccess: a session was created.
	LoginSuccess LoginResult = iota
	// LoginInvalidCredentials: unknown user, wrong or missing password, or
	// a strategy other than native.
	LoginInvalidCredentials
	// LoginNotVerified: the right password of a user who must verify
	// their address first.
	LoginNotVerified
	// LoginThrottled: refused by the login throttle before any lookup.
	LoginThrottled
	// LoginError: a fault (the database, the hashing pool's wait, the
	// request's deadline).
	LoginError

	numLoginResults = iota
)

var loginResultNames = [numLoginResults]string{"success", "invalid_credentials", "not_verified", "throttled", "error"}

// String is the result's metric label value.
func (r LoginResult) String() string {
	if int(r) < len(loginResultNames) {
		return loginResultNames[r]
	}
	return fmt.Sprintf("LoginResult(%d)", r)
}

// LoginResults returns every LoginResult, in order.
func LoginResults() []LoginResult {
	out := make([]LoginResult, numLoginResults)
	for i := range out {
		out[i] = LoginResult(i)
	}
	return out
}

// loginResultOf is the result of a login that returned err.
func loginResultOf(err error) LoginResult {
	if err == nil {
		return LoginSuccess
	}
	if _, ok := errors.AsType[*outcome.InvalidCredentialsError](err); ok {
		return LoginInvalidCredentials
	}
	if _, ok := errors.AsType[*outcome.NotVerifiedError](err); ok {
		return LoginNotVerified
	}
	if _, ok := errors.AsType[*outcome.TooManyRequestsError](err); ok {
		return LoginThrottled
	}
	return LoginError
}
