package shopapi

import (
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
)

// errorResult is the ErrorResult member of the Shop API for the outcome in
// err's chain (outcome.As: wrapped or not), with the outcome's errorCode
// and its text (Vendure's message) as message. ok is false when err holds
// no outcome: a fault. This is the one place the services' outcomes meet
// the schema; TestEveryOutcomeHasAMember holds it to package outcome.
func errorResult(err error) (member any, ok bool) {
	o, ok := outcome.As(err)
	if !ok {
		return nil, false
	}
	code, msg := gqlauth.ErrorCode(o.ErrorCode()), o.Error()
	switch e := o.(type) {
	case *outcome.InvalidCredentialsError:
		return &gqlauth.InvalidCredentialsError{Message: msg, AuthenticationError: e.AuthenticationError}, true
	case *outcome.NotVerifiedError:
		return &model.NotVerifiedError{ErrorCode: code, Message: msg}, true
	case *outcome.MissingPasswordError:
		return &model.MissingPasswordError{ErrorCode: code, Message: msg}, true
	case *outcome.PasswordAlreadySetError:
		return &model.PasswordAlreadySetError{ErrorCode: code, Message: msg}, true
	case *outcome.PasswordValidationError:
		return &model.PasswordValidationError{ErrorCode: code, Message: msg, ValidationErrorMessage: e.ValidationErrorMessage}, true
	case *outcome.VerificationTokenInvalidError:
		return &model.VerificationTokenInvalidError{ErrorCode: code, Message: msg}, true
	case *outcome.VerificationTokenExpiredError:
		return &model.VerificationTokenExpiredError{ErrorCode: code, Message: msg}, true
	case *outcome.PasswordResetTokenInvalidError:
		return &model.PasswordResetTokenInvalidError{ErrorCode: code, Message: msg}, true
	case *outcome.PasswordResetTokenExpiredError:
		return &model.PasswordResetTokenExpiredError{ErrorCode: code, Message: msg}, true
	case *outcome.NoActiveOrderError:
		return &model.NoActiveOrderError{ErrorCode: code, Message: msg}, true
	case *outcome.OrderModificationError:
		return &model.OrderModificationError{ErrorCode: code, Message: msg}, true
	case *outcome.OrderLimitError:
		return &model.OrderLimitError{ErrorCode: code, Message: msg, MaxItems: e.MaxItems}, true
	case *outcome.NegativeQuantityError:
		return &model.NegativeQuantityError{ErrorCode: code, Message: msg}, true
	case *outcome.OrderStateTransitionError:
		return &model.OrderStateTransitionError{
			ErrorCode: code, Message: msg,
			TransitionError: e.TransitionError, FromState: e.FromState, ToState: e.ToState,
		}, true
	case *outcome.OrderPaymentStateError:
		return &model.OrderPaymentStateError{ErrorCode: code, Message: msg}, true
	case *outcome.IneligiblePaymentMethodError:
		return &model.IneligiblePaymentMethodError{ErrorCode: code, Message: msg, EligibilityCheckerMessage: e.EligibilityCheckerMessage}, true
	case *outcome.AlreadyLoggedInError:
		return &model.AlreadyLoggedInError{ErrorCode: code, Message: msg}, true
	case *outcome.EmailAddressConflictError:
		return &model.EmailAddressConflictError{ErrorCode: code, Message: msg}, true
	}
	return nil, false
}

// member is the member of union U for err's outcome, or err itself when
// err holds none or U has no member for it (a fault, or an outcome the
// operation cannot have), which the error presenter hides.
func member[U any](err error) (U, error) {
	if m, ok := errorResult(err); ok {
		if u, fits := m.(U); fits {
			return u, nil
		}
	}
	var zero U
	return zero, err
}
