// Package password hashes and checks passwords (Vendure's
// PasswordHashingStrategy and PasswordValidationStrategy, as Go types).
package password

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes passwords and checks them against hashes. Hash and Check
// may take a long time on purpose (bcrypt at cost 12 takes a large fraction
// of a second of one core); ctx bounds how long they may wait before starting.
type Hasher interface {
	// Hash returns a new hash of password. It refuses a password outside
	// the length limits with ErrInvalid.
	Hash(ctx context.Context, password string) (string, error)
	// Check reports whether password matches hash. A malformed hash is a
	// mismatch, not an error; the error is for a check that could not run
	// (ctx ended first, see ErrBusy).
	Check(ctx context.Context, hash, password string) (bool, error)
	// Strength compares the work factor of hash with that of the hashes
	// Hash writes now. It is cheap: it only reads the hash.
	Strength(hash string) Strength
}

// Strength is how a stored hash's work factor compares with the current
// one.
type Strength int

const (
	// Current: the hash was written with the current parameters.
	Current Strength = iota
	// Weaker: checking the hash costs less than checking a current one (a
	// lower bcrypt cost), or the hash is unreadable.
	Weaker
	// Stronger: checking the hash costs more than checking a current one.
	Stronger
)

func (s Strength) String() string {
	switch s {
	case Current:
		return "current"
	case Weaker:
		return "weaker"
	case Stronger:
		return "stronger"
	default:
		return fmt.Sprintf("Strength(%d)", int(s))
	}
}

// Bcrypt is the default Hasher (Vendure: bcrypt, 12 rounds). It reads hashes
// written by Vendure ($2b$) as well as its own. It does not bound how many
// hashes run at once: wrap it in a Pool for that.
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

// Cost returns the cost of the hashes b writes.
func (b *Bcrypt) Cost() int { return b.cost }

// Hash returns the bcrypt hash of password. It does not start when ctx has
// already ended.
func (b *Bcrypt) Hash(ctx context.Context, password string) (string, error) {
	if err := Validate(password); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), b.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Check reports whether password matches hash. It does not start when ctx
// has already ended.
func (b *Bcrypt) Check(ctx context.Context, hash, password string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil, nil
}

// Strength compares hash's bcrypt cost with b's. An unreadable hash is
// Weaker: it fails at once.
func (b *Bcrypt) Strength(hash string) Strength {
	c, err := bcrypt.Cost([]byte(hash))
	switch {
	case err != nil || c < b.cost:
		return Weaker
	case c > b.cost:
		return Stronger
	default:
		return Current
	}
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
