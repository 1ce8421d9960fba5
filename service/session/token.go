package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// MaxTokenLength bounds what a client may send as a token; real tokens are 64
// hex characters.
const MaxTokenLength = 512

// HashToken returns the lower-case hex SHA-256 of a session token: the value
// stored in session.token_hash and used as the cache key. The raw token is
// never stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// GenerateToken is Vendure's generateSessionToken: 32 random bytes as 64
// lower-case hex characters.
func GenerateToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate session token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
