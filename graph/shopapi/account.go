package shopapi

import (
	"context"
	"errors"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
)

// The account mutations' codes, as Vendure spells them; each belongs to the
// ErrorResult type of the same name (graph/schema_test.go checks the
// ErrorCode enum against the types, the e2e tests the codes on the wire).
const (
	codeMissingPassword           gqlauth.ErrorCode = "MISSING_PASSWORD_ERROR"
	codePasswordValidation        gqlauth.ErrorCode = "PASSWORD_VALIDATION_ERROR"
	codePasswordAlreadySet        gqlauth.ErrorCode = "PASSWORD_ALREADY_SET_ERROR"
	codeVerificationTokenInvalid  gqlauth.ErrorCode = "VERIFICATION_TOKEN_INVALID_ERROR"
	codeVerificationTokenExpired  gqlauth.ErrorCode = "VERIFICATION_TOKEN_EXPIRED_ERROR"
	codePasswordResetTokenInvalid gqlauth.ErrorCode = "PASSWORD_RESET_TOKEN_INVALID_ERROR"
	codePasswordResetTokenExpired gqlauth.ErrorCode = "PASSWORD_RESET_TOKEN_EXPIRED_ERROR"
)

// errorResult maps an expected outcome of the account flows (a service
// error type, wrapped or not) to its ErrorResult member, with that error's
// text (Vendure's message) as message; any other error is a fault,
// returned as the second value. This is the one place the account flows'
// errors meet the schema.
func errorResult(err error) (any, error) {
	if e, ok := errors.AsType[*outcome.MissingPasswordError](err); ok {
		return &model.MissingPasswordError{ErrorCode: codeMissingPassword, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.PasswordAlreadySetError](err); ok {
		return &model.PasswordAlreadySetError{ErrorCode: codePasswordAlreadySet, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.PasswordValidationError](err); ok {
		return &model.PasswordValidationError{ErrorCode: codePasswordValidation, Message: e.Error(), ValidationErrorMessage: e.ValidationErrorMessage}, nil
	}
	if e, ok := errors.AsType[*outcome.VerificationTokenInvalidError](err); ok {
		return &model.VerificationTokenInvalidError{ErrorCode: codeVerificationTokenInvalid, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.VerificationTokenExpiredError](err); ok {
		return &model.VerificationTokenExpiredError{ErrorCode: codeVerificationTokenExpired, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.PasswordResetTokenInvalidError](err); ok {
		return &model.PasswordResetTokenInvalidError{ErrorCode: codePasswordResetTokenInvalid, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.PasswordResetTokenExpiredError](err); ok {
		return &model.PasswordResetTokenExpiredError{ErrorCode: codePasswordResetTokenExpired, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.NotVerifiedError](err); ok {
		return &model.NotVerifiedError{ErrorCode: gqlauth.ErrorCodeNotVerifiedError, Message: e.Error()}, nil
	}
	if e, ok := errors.AsType[*outcome.InvalidCredentialsError](err); ok {
		return &gqlauth.InvalidCredentialsError{Message: e.Error(), AuthenticationError: e.AuthenticationError}, nil
	}
	return nil, err
}

// result is an account mutation's answer in its union U: ok when err is
// nil, else err's ErrorResult member. An error U has no member for (a
// fault, or an outcome this mutation cannot have) is returned as the
// error, which the error presenter hides.
func result[U any](ok U, err error) (U, error) {
	var zero U
	if err == nil {
		return ok, nil
	}
	member, fault := errorResult(err)
	if fault != nil {
		return zero, fault
	}
	if u, is := member.(U); is {
		return u, nil
	}
	return zero, err
}

// success is the Success an account mutation answers when it has nothing
// more to say (the address-hiding ones always do).
func success() *gqlauth.Success { return &gqlauth.Success{Success: true} }

// activeUserID is the logged-in user, or 0 (which owns nothing).
func activeUserID(ctx context.Context) entity.ID {
	id, _ := requestctx.FromContext(ctx).ActiveUserID()
	return id
}

// registration maps registerCustomerAccount's input, on the request's
// channel. Absent fields are "", as Vendure stores them.
func registration(ctx context.Context, in model.RegisterCustomerInput) account.Registration {
	return account.Registration{
		EmailAddress: in.EmailAddress, Title: deref(in.Title), FirstName: deref(in.FirstName),
		LastName: deref(in.LastName), PhoneNumber: deref(in.PhoneNumber), Password: deref(in.Password),
		ChannelID: requestctx.FromContext(ctx).ChannelID(),
	}
}

// customerUpdate maps updateCustomer's input; an absent field is left as it is.
func customerUpdate(in model.UpdateCustomerInput) account.CustomerUpdate {
	return account.CustomerUpdate{Title: in.Title, FirstName: in.FirstName, LastName: in.LastName, PhoneNumber: in.PhoneNumber}
}

// deref is *s, or "" for nil (Vendure treats a null password as none).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
