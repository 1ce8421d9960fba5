package gqlutil

import (
	"errors"

	"github.com/shopsession/sessionserver/service/outcome"
)

// NilIfNotFound turns outcome.ErrNotFound into a null result.
func NilIfNotFound[T any](v *T, err error) (*T, error) {
	if errors.Is(err, outcome.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
