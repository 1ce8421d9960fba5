package password_test

import (
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

func TestBcrypt(t *testing.T) {
	t.Parallel()

	h, err := password.NewBcrypt(4)
	require.NoError(t, err)
	var _ password.Hasher = h

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		for _, pw := range []string{"abcd", "correct horse battery staple", strings.Repeat("é", 36)} {
			hash, err := h.Hash(pw)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(hash, "$2a$04$"), hash)
			require.NotContains(t, hash, pw)
			require.True(t, h.Check(hash, pw))
			require.False(t, h.Check(hash, "x"+pw))
			require.False(t, h.Check(hash, pw[:len(pw)-1]))
		}
	})

	t.Run("SaltedHashes", func(t *testing.T) {
		t.Parallel()
		a, err := h.Hash("secret")
		require.NoError(t, err)
		b, err := h.Hash("secret")
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		require.True(t, h.Check(a, "secret"))
		require.True(t, h.Check(b, "secret"))
	})

	t.Run("WrongPassword", func(t *testing.T) {
		t.Parallel()
		hash, err := h.Hash("secret")
		require.NoError(t, err)
		for _, pw := range []string{"", "Secret", "secre", "secret ", " secret"} {
			require.False(t, h.Check(hash, pw), "%q", pw)
		}
	})

	t.Run("MalformedHash", func(t *testing.T) {
		t.Parallel()
		hash, err := h.Hash("secret")
		require.NoError(t, err)
		for _, bad := range []string{"", "secret", "not-a-hash", "$2a$04$", hash[:len(hash)-5], "$9z$04$" + hash[7:]} {
			require.False(t, h.Check(bad, "secret"), "%q", bad)
		}
	})

	t.Run("HashOfAnotherCostAndVendureVersion", func(t *testing.T) {
		t.Parallel()
		// Vendure writes $2b$ hashes with 12 rounds; a Hasher of any cost
		// checks them.
		h5, err := password.NewBcrypt(5)
		require.NoError(t, err)
		hash, err := h5.Hash("secret")
		require.NoError(t, err)
		require.True(t, h.Check(hash, "secret"))
		vendure := "$2b$" + strings.TrimPrefix(hash, "$2a$")
		require.True(t, h.Check(vendure, "secret"))
		require.False(t, h.Check(vendure, "other"))
	})

	t.Run("HashRejectsInvalidPassword", func(t *testing.T) {
		t.Parallel()
		for _, pw := range []string{"abc", strings.Repeat("x", 73)} {
			_, err := h.Hash(pw)
			require.ErrorIs(t, err, password.ErrInvalid)
		}
	})
}
