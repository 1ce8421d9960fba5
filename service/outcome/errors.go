package outcome

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels for faults and access.
var (
	// ErrNotFound is returned by lookups that find nothing.
	ErrNotFound = errors.New("not found")
	// ErrForbidden is returned when the caller may not perform an operation.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidInput is wrapped by errors that reject a request's input.
	ErrInvalidInput = errors.New("invalid input")
	// ErrDuplicate is wrapped by errors that refuse a second channel or
	// role with the same code (or channel token): a unique constraint said
	// so, which also holds between concurrent requests.
	ErrDuplicate = errors.New("already exists")
	// ErrCannotModifyRole is returned for changes to the built-in SuperAdmin
	// and Customer roles (Vendure: error.cannot-modify-role).
	ErrCannotModifyRole = errors.New("the built-in SuperAdmin and Customer roles cannot be modified")
)

// The Error texts of the domain errors below are Vendure's English
// messages, verbatim: the GraphQL layer sends them as ErrorResult messages
// and GraphQL error messages, and clients show them. The GraphQL codes and
// the messages of faults (FORBIDDEN, INTERNAL_SERVER_ERROR, …) are package
// gqlerr's.

// InvalidCredentialsError is the expected outcome of a failed login.
// AuthenticationError carries a strategy's reason ("" for native).
type InvalidCredentialsError struct {
	AuthenticationError string
}

func (e *InvalidCredentialsError) Error() string { return "The provided credentials are invalid" }

func (*InvalidCredentialsError) ErrorCode() string { return "INVALID_CREDENTIALS_ERROR" }

// NotVerifiedError is returned when an unverified user tries to log in while
// verification is required.
type NotVerifiedError struct{}

func (e *NotVerifiedError) Error() string {
	return "Please verify this email address before logging in"
}

func (*NotVerifiedError) ErrorCode() string { return "NOT_VERIFIED_ERROR" }

// EntityNotFoundError is returned when a request names an entity by an id
// that names none the caller can use (Vendure's EntityNotFoundError,
// ENTITY_NOT_FOUND). It is also ErrNotFound (errors.Is).
type EntityNotFoundError struct {
	Entity string // the entity's GraphQL type name, e.g. "ProductVariant"
	ID     string
}

func (e *EntityNotFoundError) Error() string {
	return fmt.Sprintf("No %s with the id %q could be found", e.Entity, e.ID)
}

func (e *EntityNotFoundError) Unwrap() error { return ErrNotFound }

// ChannelNotFoundError is returned when a request names a channel token that
// matches no channel while several channels exist.
type ChannelNotFoundError struct {
	Token string
}

func (e *ChannelNotFoundError) Error() string {
	return fmt.Sprintf("No Channel with the token %q could be found", e.Token)
}

// TooManyRequestsError refuses a throttled call. The GraphQL layer sends
// it as TOO_MANY_REQUESTS with retryAfter and a Retry-After header.
type TooManyRequestsError struct {
	// RetryAfter is how long until the call would be allowed.
	RetryAfter time.Duration
}

// Seconds is RetryAfter in whole seconds, rounded up, at least 1.
func (e *TooManyRequestsError) Seconds() int64 {
	return max(1, int64((e.RetryAfter+time.Second-1)/time.Second))
}

func (e *TooManyRequestsError) Error() string {
	if n := e.Seconds(); n != 1 {
		return fmt.Sprintf("Too many attempts; try again in %d seconds", n)
	}
	return "Too many attempts; try again in 1 second"
}
