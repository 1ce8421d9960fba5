package access

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The permissions the operations check are Vendure's names, which auth
// knows: a misspelt one would refuse everybody.
func TestCheckedPermissionsAreKnown(t *testing.T) {
	t.Parallel()
	for _, p := range checkedPermissions {
		require.True(t, p.IsValid(), "%q", p)
	}
}
