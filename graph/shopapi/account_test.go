package shopapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
)

// result answers ok on success, the member when the union has it, and
// the error itself (a fault the presenter hides) when it has not.
func TestResult(t *testing.T) {
	t.Parallel()
	ok := success()
	res, err := result[model.RegisterCustomerAccountResult](ok, nil)
	require.NoError(t, err)
	require.Same(t, ok, res)

	res, err = result[model.RegisterCustomerAccountResult](ok, &outcome.MissingPasswordError{})
	require.NoError(t, err)
	require.IsType(t, &model.MissingPasswordError{}, res)

	expired := &outcome.VerificationTokenExpiredError{}
	res, err = result[model.RegisterCustomerAccountResult](ok, expired)
	require.Nil(t, res)
	require.Same(t, expired, err, "RegisterCustomerAccountResult has no such member")
}
