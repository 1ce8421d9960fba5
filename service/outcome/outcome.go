// Package outcome holds what the services answer besides success: the
// expected outcomes of an operation (Vendure's ErrorResult types, each an
// Outcome), the refusals the GraphQL layer sends as errors with a code
// (EntityNotFoundError, ChannelNotFoundError, TooManyRequestsError), and
// the sentinel errors callers classify with errors.Is.
//
// It is the leaf of the service packages: every one of them may return
// these, and the GraphQL layer classifies them in one place.
package outcome

import "errors"

// Outcome is an expected result of an operation other than its success:
// one of Vendure's ErrorResult types. The GraphQL layer answers it as the
// member of the operation's result union that has its ErrorCode, with
// Error as the message; it is never a fault, wrapped or not. A new outcome
// is a type here with these two methods (and its GraphQL type).
type Outcome interface {
	error
	// ErrorCode is Vendure's errorCode for the outcome, e.g.
	// "ORDER_LIMIT_ERROR".
	ErrorCode() string
}

// As returns the first Outcome in err's chain.
func As(err error) (Outcome, bool) { return errors.AsType[Outcome](err) }

// Is reports whether err's chain holds an Outcome.
func Is(err error) bool {
	_, ok := As(err)
	return ok
}
