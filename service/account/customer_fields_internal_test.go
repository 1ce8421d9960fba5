package account

import (
	"strings"
	"testing"

	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/stretchr/testify/require"
)

func TestCustomerFieldRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"emailAddress", "a@example.com", true},
		{"emailAddress", "first.last+tag@sub.example.co.uk", true},
		{"emailAddress", "ü@exämple.com", true},
		{"emailAddress", "", false},
		{"emailAddress", "not-an-email", false},
		{"emailAddress", "Name <a@example.com>", false},
		{"emailAddress", "<a@example.com>", false},
		{"emailAddress", "a@example.com (comment)", false},
		{"emailAddress", `"a b"@example.com`, false},
		{"emailAddress", "a@example.com, b@example.com", false},
		{"emailAddress", "a@", false},
		{"emailAddress", "a@example.com\n", false},
		{"emailAddress", strings.Repeat("a", 244) + "@example.com", false},
		{"phoneNumber", "", true},
		{"phoneNumber", "+1 (555) 010-0199", true},
		{"phoneNumber", "029 1203 1336", true},
		{"phoneNumber", "+44.20.7946.0000", true},
		{"phoneNumber", strings.Repeat("1", 32), true},
		{"phoneNumber", strings.Repeat("1", 33), false},
		{"phoneNumber", "+-()", false},
		{"phoneNumber", "555-CALL", false},
		{"phoneNumber", "555\x000", false},
		{"firstName", "Zoë-Anne O'Neil", true},
		{"firstName", "", true},
		{"firstName", strings.Repeat("é", 255), true},
		{"firstName", strings.Repeat("é", 256), false},
		{"lastName", "a\tb", false},
		{"lastName", "a\u0085b", false},
		{"title", "Dr.", true},
		{"title", "Dr\x7f", false},
	} {
		err := CheckFields([]Field{{Name: c.name, Value: c.value}})
		if c.ok {
			require.NoError(t, err, "%s %q", c.name, c.value)
			continue
		}
		require.ErrorIs(t, err, outcome.ErrInvalidInput, "%s %q", c.name, c.value)
		require.Contains(t, err.Error(), c.name)
	}
}
