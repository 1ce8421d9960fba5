package password_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/password"
)

func TestValidate(t *testing.T) {
	t.Parallel()

	require.Equal(t, 4, password.MinLength)
	require.Equal(t, 72, password.MaxLength)

	for _, ok := range []string{
		"abcd",
		strings.Repeat("x", 72),
		"éé",                    // 2 runes, 4 bytes
		strings.Repeat("é", 36), // 72 bytes
	} {
		require.NoError(t, password.Validate(ok), "%d bytes", len(ok))
	}
	for _, bad := range []string{
		"",
		"abc",
		"é", // 2 bytes
		strings.Repeat("x", 73),
		strings.Repeat("é", 37), // 37 runes, 74 bytes
	} {
		err := password.Validate(bad)
		require.ErrorIs(t, err, password.ErrInvalid, "%d bytes", len(bad))
	}
}

func TestNewBcrypt(t *testing.T) {
	t.Parallel()

	for _, cost := range []int{3, 32, 0, -1} {
		_, err := password.NewBcrypt(cost)
		require.Error(t, err, "cost %d", cost)
	}
	for _, cost := range []int{4, 12, 31} {
		h, err := password.NewBcrypt(cost)
		require.NoError(t, err, "cost %d", cost)
		require.NotNil(t, h)
	}
}

// check runs h.Check, which must not fail.
func check(t *testing.T, h password.Hasher, hash, pw string) bool {
	t.Helper()
	ok, err := h.Check(context.Background(), hash, pw)
	require.NoError(t, err)
	return ok
}

func TestBcrypt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	h, err := password.NewBcrypt(4)
	require.NoError(t, err)
	var _ password.Hasher = h

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		for _, pw := range []string{"abcd", "correct horse battery staple", strings.Repeat("é", 36)} {
			hash, err := h.Hash(ctx, pw)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(hash, "$2a$04$"), hash)
			require.NotContains(t, hash, pw)
			require.True(t, check(t, h, hash, pw))
			require.False(t, check(t, h, hash, "x"+pw))
			require.False(t, check(t, h, hash, pw[:len(pw)-1]))
		}
	})

	t.Run("SaltedHashes", func(t *testing.T) {
		t.Parallel()
		a, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		b, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		require.True(t, check(t, h, a, "secret"))
		require.True(t, check(t, h, b, "secret"))
	})

	t.Run("WrongPassword", func(t *testing.T) {
		t.Parallel()
		hash, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		for _, pw := range []string{"", "Secret", "secre", "secret ", " secret"} {
			require.False(t, check(t, h, hash, pw), "%q", pw)
		}
	})

	t.Run("MalformedHash", func(t *testing.T) {
		t.Parallel()
		hash, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		for _, bad := range []string{"", "secret", "not-a-hash", "$2a$04$", hash[:len(hash)-5], "$9z$04$" + hash[7:]} {
			require.False(t, check(t, h, bad, "secret"), "%q", bad)
		}
	})

	t.Run("HashOfAnotherCostAndVendureVersion", func(t *testing.T) {
		t.Parallel()
		// Vendure writes $2b$ hashes with 12 rounds; a Hasher of any cost
		// checks them.
		h5, err := password.NewBcrypt(5)
		require.NoError(t, err)
		hash, err := h5.Hash(ctx, "secret")
		require.NoError(t, err)
		require.True(t, check(t, h, hash, "secret"))
		vendure := "$2b$" + strings.TrimPrefix(hash, "$2a$")
		require.True(t, check(t, h, vendure, "secret"))
		require.False(t, check(t, h, vendure, "other"))
	})

	t.Run("HashRejectsInvalidPassword", func(t *testing.T) {
		t.Parallel()
		for _, pw := range []string{"abc", strings.Repeat("x", 73)} {
			_, err := h.Hash(ctx, pw)
			require.ErrorIs(t, err, password.ErrInvalid)
		}
	})

	t.Run("EndedContextStartsNothing", func(t *testing.T) {
		t.Parallel()
		hash, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		ended, cancel := context.WithCancel(ctx)
		cancel()
		_, err = h.Hash(ended, "secret")
		require.ErrorIs(t, err, context.Canceled)
		ok, err := h.Check(ended, hash, "secret")
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, ok)
	})
}

func TestBcryptStrength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	hashAt := func(cost int) string {
		h, err := password.NewBcrypt(cost)
		require.NoError(t, err)
		require.Equal(t, cost, h.Cost())
		hash, err := h.Hash(ctx, "secret")
		require.NoError(t, err)
		return hash
	}
	h4, h5, h6 := hashAt(4), hashAt(5), hashAt(6)

	h, err := password.NewBcrypt(5)
	require.NoError(t, err)
	require.Equal(t, password.Weaker, h.Strength(h4))
	require.Equal(t, password.Current, h.Strength(h5))
	require.Equal(t, password.Current, h.Strength("$2b$"+strings.TrimPrefix(h5, "$2a$")), "Vendure's $2b$ at the same cost")
	require.Equal(t, password.Stronger, h.Strength(h6))
	for _, bad := range []string{"", "secret", "$2a$05$", "$9z$05$" + h5[7:]} {
		require.Equal(t, password.Weaker, h.Strength(bad), "%q: an unreadable hash fails fast", bad)
	}
	require.Equal(t, "weaker", password.Weaker.String())
	require.Equal(t, "current", password.Current.String())
	require.Equal(t, "stronger", password.Stronger.String())
}
