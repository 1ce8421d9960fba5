package shopapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Every expected outcome of the account flows maps to the member of its
// name, with Vendure's message; wrapping does not hide it.
func TestErrorResult(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want any
	}{
		{&outcome.MissingPasswordError{}, &model.MissingPasswordError{ErrorCode: "MISSING_PASSWORD_ERROR", Message: "A password must be provided."}},
		{&outcome.PasswordAlreadySetError{}, &model.PasswordAlreadySetError{ErrorCode: "PASSWORD_ALREADY_SET_ERROR", Message: "A password has already been set during registration"}},
		{&outcome.PasswordValidationError{ValidationErrorMessage: "too short"}, &model.PasswordValidationError{ErrorCode: "PASSWORD_VALIDATION_ERROR", Message: "Password is invalid", ValidationErrorMessage: "too short"}},
		{&outcome.VerificationTokenInvalidError{}, &model.VerificationTokenInvalidError{ErrorCode: "VERIFICATION_TOKEN_INVALID_ERROR", Message: "Verification token not recognized"}},
		{&outcome.VerificationTokenExpiredError{}, &model.VerificationTokenExpiredError{ErrorCode: "VERIFICATION_TOKEN_EXPIRED_ERROR", Message: "Verification token has expired. Use refreshCustomerVerification to send a new token."}},
		{&outcome.PasswordResetTokenInvalidError{}, &model.PasswordResetTokenInvalidError{ErrorCode: "PASSWORD_RESET_TOKEN_INVALID_ERROR", Message: "Password reset token not recognized"}},
		{&outcome.PasswordResetTokenExpiredError{}, &model.PasswordResetTokenExpiredError{ErrorCode: "PASSWORD_RESET_TOKEN_EXPIRED_ERROR", Message: "Password reset token has expired"}},
		{&outcome.NotVerifiedError{}, &model.NotVerifiedError{ErrorCode: "NOT_VERIFIED_ERROR", Message: "Please verify this email address before logging in"}},
		{&outcome.InvalidCredentialsError{}, &gqlauth.InvalidCredentialsError{Message: "The provided credentials are invalid"}},
	} {
		got, fault := errorResult(fmt.Errorf("flow: %w", c.err))
		require.NoError(t, fault)
		require.Equal(t, c.want, got, "%T", c.err)
	}
	boom := errors.New("connection refused")
	got, fault := errorResult(boom)
	require.Nil(t, got)
	require.Same(t, boom, fault)
}

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
