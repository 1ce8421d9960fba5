package session

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"
)

// The lookups carry their key as a placeholder of the dialect, never as a
// value in the text: one statement text for every token, so PostgreSQL
// plans it once per connection (see sessionQueries).
func TestSessionQueriesArePlaceholders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dialect dialect.Name
		param   string
	}{{dialect.PG, "$1"}, {dialect.SQLite, "?"}} {
		q, err := newSessionQueries(tc.dialect)
		require.NoError(t, err)
		for name, text := range map[string]string{"byTokenHash": q.byTokenHash, "byID": q.byID} {
			key := map[string]string{"byTokenHash": "s.token_hash = ", "byID": "s.id = "}[name]
			require.Contains(t, text, "WHERE s.invalidated = FALSE AND "+key+tc.param+" ORDER BY r.id, ch.id", "%s %s", tc.dialect, name)
			// The key is the only parameter.
			require.Equal(t, 1, strings.Count(text, "$")+strings.Count(text, "?"), "%s %s: %s", tc.dialect, name, text)
		}
	}
	_, err := newSessionQueries(dialect.MySQL)
	require.Error(t, err, "an unknown dialect's placeholders are not guessed")
}
