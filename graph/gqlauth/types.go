// Package gqlauth is the auth surface the Shop and Admin APIs share: the
// GraphQL types that are the same in both schemas (both gqlgen configs
// autobind them from here), the login, logout and me operations, and the
// mapping of a login outcome to the result unions.
//
// The unions themselves stay generated per API, because Vendure gives them
// different members: the Shop API adds NotVerifiedError, which is why that
// type is not here but generated in the Shop API's model package, where the
// Admin API cannot return it by mistake.
package gqlauth

import (
	"fmt"
	"io"
	"strconv"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Result is a member of both login unions, NativeAuthenticationResult and
// AuthenticationResult, in both APIs: gqlgen generates each union as an
// interface of its Is<Union> method, so a Result is assignable to any of them.
type Result interface {
	IsNativeAuthenticationResult()
	IsAuthenticationResult()
}

// CurrentUser is the logged-in user, as login and me return it.
type CurrentUser struct {
	ID         entity.ID
	Identifier string
	Channels   []*sessioncache.Channel
}

// IsNativeAuthenticationResult makes CurrentUser a member of that union.
func (*CurrentUser) IsNativeAuthenticationResult() {}

// IsAuthenticationResult makes CurrentUser a member of that union.
func (*CurrentUser) IsAuthenticationResult() {}

// InvalidCredentialsError is the login union member for wrong credentials.
type InvalidCredentialsError struct {
	Message string
	// AuthenticationError is a strategy's reason ("" for the native one).
	AuthenticationError string
}

// ErrorCode is the code of an ErrorResult, fixed by its type.
func (*InvalidCredentialsError) ErrorCode() ErrorCode {
	return ErrorCode((*outcome.InvalidCredentialsError)(nil).ErrorCode())
}

// IsErrorResult makes InvalidCredentialsError an ErrorResult.
func (*InvalidCredentialsError) IsErrorResult() {}

// IsNativeAuthenticationResult makes InvalidCredentialsError a member of that union.
func (*InvalidCredentialsError) IsNativeAuthenticationResult() {}

// IsAuthenticationResult makes InvalidCredentialsError a member of that union.
func (*InvalidCredentialsError) IsAuthenticationResult() {}

// Success is the result of an operation that has nothing more to say.
type Success struct {
	Success bool
}

// NativeAuthInput holds the native strategy's credentials.
type NativeAuthInput struct {
	Username string
	Password string
}

// AuthenticationInput names a strategy by its one set field.
type AuthenticationInput struct {
	Native *NativeAuthInput
}

// ErrorCode is the errorCode of an ErrorResult. Each API's ErrorCode enum
// lists the codes of its own ErrorResult types (graph/schema_test.go checks
// that), so the Admin API never sends NOT_VERIFIED_ERROR: it has no type
// that carries it.
type ErrorCode string

// MarshalGQL implements graphql.Marshaler.
func (c ErrorCode) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL implements graphql.Unmarshaler. ErrorCode is never an
// argument; gqlgen wants both directions of a bound enum.
func (c *ErrorCode) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("ErrorCode must be a string, not %T", v)
	}
	*c = ErrorCode(s)
	return nil
}
