package account

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
)

// TestLoginResultOf: each way Authenticate ends has its result.
func TestLoginResultOf(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]LoginResult{
		nil:                                       LoginSuccess,
		&outcome.InvalidCredentialsError{}:        LoginInvalidCredentials,
		&outcome.NotVerifiedError{}:               LoginNotVerified,
		&outcome.TooManyRequestsError{}:           LoginThrottled,
		fmt.Errorf("check: %w", password.ErrBusy): LoginError,
		errors.New("database on fire"):            LoginError,
	} {
		require.Equal(t, want, loginResultOf(err), "%v", err)
	}
	for _, r := range LoginResults() {
		require.NotContains(t, r.String(), "(")
	}
}
