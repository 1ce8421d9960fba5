package gqlutil

import (
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/service"
)

// AsResult narrows a mapped outcome to the union type a resolver returns.
func AsResult[T any](v any, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	r, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("result %T is not a member of %T", v, zero)
	}
	return r, nil
}

// NilIfNotFound turns service.ErrNotFound into a null result.
func NilIfNotFound[T any](v *T, err error) (*T, error) {
	if errors.Is(err, service.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
