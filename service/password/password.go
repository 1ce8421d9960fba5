// Package password hashes and checks passwords (Vendure's
// PasswordHashingStrategy and PasswordValidationStrategy, as Go types).
package password

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes passwords and checks them against hashes.
type Hasher interface {
	Hash(password string) (string, error)
	// Check reports whether password matches hash. A malformed hash is a
	// mismatch, not an error.
	Check(hash, password string) bool
}

// Bcrypt is the default Hasher (Vendure: bcrypt, 12 rounds). It reads hashes
// written by Vendure ($2b$) as well as its own.
type Bcrypt struct {
	cost int
}

// NewBcrypt returns a bcrypt Hasher of the given cost (4..31).
func NewBcrypt(cost int) (*Bcrypt, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost must be between %d and %d, got %d", bcrypt.MinCost, bcrypt.MaxCost, cost)
	}
	return &Bcrypt{cost: cost}, nil
}

// Hash returns the bcrypt hash of password.
func (b *Bcrypt) Hash(password string) (string, error) {
	if err := Validate(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), b.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Check reports whether password matches hash.
func (b *Bcrypt) Check(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// Length limits of Vendure's DefaultPasswordValidationStrategy. 72 bytes is
// bcrypt's limit: longer passwords would be silently truncated.
const (
	MinLength = 4
	MaxLength = 72
)

// ErrInvalid is returned for a password outside the length limits.
var ErrInvalid = errors.New("password is invalid")

// Validate checks a new password against the length limits.
func Validate(password string) error {
	if len(password) < MinLength || len(password) > MaxLength {
		return fmt.Errorf("%w: it must be %d to %d bytes long", ErrInvalid, MinLength, MaxLength)
	}
	return nil
}
