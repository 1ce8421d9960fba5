package shopapi

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
)

var transition = "No transition"

// outcomeMembers is every outcome with the member it maps to: its own
// errorCode and Vendure's message.
var outcomeMembers = []struct {
	err  outcome.Outcome
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
	{&outcome.InvalidCredentialsError{AuthenticationError: "x"}, &gqlauth.InvalidCredentialsError{Message: "The provided credentials are invalid", AuthenticationError: "x"}},
	{&outcome.NoActiveOrderError{}, &model.NoActiveOrderError{ErrorCode: "NO_ACTIVE_ORDER_ERROR", Message: "There is no active Order associated with the current session"}},
	{&outcome.OrderModificationError{}, &model.OrderModificationError{ErrorCode: "ORDER_MODIFICATION_ERROR", Message: `Order contents may only be modified when in the "AddingItems" state`}},
	{&outcome.NegativeQuantityError{}, &model.NegativeQuantityError{ErrorCode: "NEGATIVE_QUANTITY_ERROR", Message: "The quantity for an OrderItem cannot be negative"}},
	{&outcome.OrderLimitError{MaxItems: 3}, &model.OrderLimitError{ErrorCode: "ORDER_LIMIT_ERROR", Message: "Cannot add items. An order may consist of a maximum of 3 items", MaxItems: 3}},
	{&outcome.OrderStateTransitionError{FromState: "A", ToState: "B", TransitionError: transition}, &model.OrderStateTransitionError{ErrorCode: "ORDER_STATE_TRANSITION_ERROR", Message: `Cannot transition Order from "A" to "B"`, FromState: "A", ToState: "B", TransitionError: transition}},
	{&outcome.OrderPaymentStateError{}, &model.OrderPaymentStateError{ErrorCode: "ORDER_PAYMENT_STATE_ERROR", Message: `A Payment may only be added when Order is in "ArrangingPayment" state`}},
	{&outcome.IneligiblePaymentMethodError{EligibilityCheckerMessage: &transition}, &model.IneligiblePaymentMethodError{ErrorCode: "INELIGIBLE_PAYMENT_METHOD_ERROR", Message: "INELIGIBLE_PAYMENT_METHOD_ERROR", EligibilityCheckerMessage: &transition}},
	{&outcome.AlreadyLoggedInError{}, &model.AlreadyLoggedInError{ErrorCode: "ALREADY_LOGGED_IN_ERROR", Message: "Cannot set a Customer for the Order when already logged in"}},
	{&outcome.EmailAddressConflictError{}, &model.EmailAddressConflictError{ErrorCode: "EMAIL_ADDRESS_CONFLICT_ERROR", Message: "The email address is not available."}},
}

// Every outcome maps to the member of its name, with its code and
// Vendure's message, however deeply it is wrapped; an error that holds no
// outcome is a fault.
func TestErrorResult(t *testing.T) {
	t.Parallel()
	for _, c := range outcomeMembers {
		for _, err := range []error{c.err, fmt.Errorf("flow: %w", c.err), fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", c.err))} {
			got, ok := errorResult(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, c.want, got, "%T", c.err)
		}
	}
	got, ok := errorResult(fmt.Errorf("wrapped: %w", errors.New("connection refused")))
	require.False(t, ok)
	require.Nil(t, got)
}

// Every type of package outcome with an ErrorCode method (an Outcome) has
// a row above, so a new outcome cannot reach a client as a fault. The
// outcomes of admin_errors.go have their members in the Admin API, whose
// own test holds them.
func TestEveryOutcomeHasAMember(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", "service", "outcome", "*.go"))
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, name := range files {
		if filepath.Base(name) == "admin_errors.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "ErrorCode" {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			require.True(t, ok, "ErrorCode on a pointer receiver")
			declared[star.X.(*ast.Ident).Name] = true
		}
	}
	require.NotEmpty(t, declared)
	covered := map[string]bool{}
	for _, c := range outcomeMembers {
		covered[fmt.Sprintf("%T", c.err)[len("*outcome."):]] = true
	}
	require.Equal(t, declared, covered, "outcomes with and without a member")
}
