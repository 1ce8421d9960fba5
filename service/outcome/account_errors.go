package outcome

// The expected outcomes of the customer account flows (AccountService). As
// the errors in errors.go, their Error texts are Vendure's English messages,
// verbatim; the Shop API returns them as members of its result unions.

// MissingPasswordError: a registration without a password while
// verification is off, or a verification without a password for an account
// registered without one.
type MissingPasswordError struct{}

func (e *MissingPasswordError) Error() string { return "A password must be provided." }

func (*MissingPasswordError) ErrorCode() string { return "MISSING_PASSWORD_ERROR" }

// PasswordValidationError: a new password breaks the password rules.
// ValidationErrorMessage says which.
type PasswordValidationError struct {
	ValidationErrorMessage string
}

func (e *PasswordValidationError) Error() string { return "Password is invalid" }

func (*PasswordValidationError) ErrorCode() string { return "PASSWORD_VALIDATION_ERROR" }

// PasswordAlreadySetError: a verification with a password for an account
// registered with one.
type PasswordAlreadySetError struct{}

func (e *PasswordAlreadySetError) Error() string {
	return "A password has already been set during registration"
}

func (*PasswordAlreadySetError) ErrorCode() string { return "PASSWORD_ALREADY_SET_ERROR" }

// VerificationTokenInvalidError: no account waits for this verification
// token (unknown, used, or replaced by a newer one).
type VerificationTokenInvalidError struct{}

func (e *VerificationTokenInvalidError) Error() string { return "Verification token not recognized" }

func (*VerificationTokenInvalidError) ErrorCode() string { return "VERIFICATION_TOKEN_INVALID_ERROR" }

// VerificationTokenExpiredError: the verification token is known but older
// than VERIFICATION_TOKEN_DURATION.
type VerificationTokenExpiredError struct{}

func (e *VerificationTokenExpiredError) Error() string {
	return "Verification token has expired. Use refreshCustomerVerification to send a new token."
}

func (*VerificationTokenExpiredError) ErrorCode() string { return "VERIFICATION_TOKEN_EXPIRED_ERROR" }

// PasswordResetTokenInvalidError: no account waits for this reset token
// (unknown, used, or replaced by a newer one).
type PasswordResetTokenInvalidError struct{}

func (e *PasswordResetTokenInvalidError) Error() string { return "Password reset token not recognized" }

func (*PasswordResetTokenInvalidError) ErrorCode() string {
	return "PASSWORD_RESET_TOKEN_INVALID_ERROR"
}

// PasswordResetTokenExpiredError: the reset token is known but older than
// PASSWORD_RESET_TOKEN_DURATION.
type PasswordResetTokenExpiredError struct{}

func (e *PasswordResetTokenExpiredError) Error() string { return "Password reset token has expired" }

func (*PasswordResetTokenExpiredError) ErrorCode() string {
	return "PASSWORD_RESET_TOKEN_EXPIRED_ERROR"
}
