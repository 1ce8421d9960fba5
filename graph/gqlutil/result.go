package gqlutil

import (
	"errors"

	"github.com/shopsession/sessionserver/service"
)

// NilIfNotFound turns service.ErrNotFound into a null result.
func NilIfNotFound[T any](v *T, err error) (*T, error) {
	if errors.Is(err, service.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
