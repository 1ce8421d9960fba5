package e2e_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/shopsession/sessionserver/internal/testenv"
)

func decodeLogin(t *testing.T, r *testenv.Response) loginResult {
	t.Helper()
	var out loginResult
	r.Decode(t, &out)
	return out
}

func decodeMe(t *testing.T, r *testenv.Response) meResult {
	t.Helper()
	var out meResult
	r.Decode(t, &out)
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func toString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
