package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://alice:pw@db:5432/app?sslmode=disable", "postgres://alice:xxxxx@db:5432/app?sslmode=disable"},
		{"postgres://alice@db/app", "postgres://alice@db/app"},
		{"postgres://db/app?password=pw&sslmode=disable", "postgres://db/app?password=xxxxx&sslmode=disable"},
		{"host=db user=alice password=pw dbname=app", "host=db user=alice password=xxxxx dbname=app"},
		{"host=db password = 'p w\\'x' dbname=app", "host=db password = xxxxx dbname=app"},
		{"password=pw", "password=xxxxx"},
		{"postgres://alice:pw@db:bad port/app", "postgres://xxxxx@db:bad port/app"},
		{"postgres://db:bad port/app?password=pw", "postgres://db:bad port/app?password=xxxxx"},
		{"redis://:hunter2@cache:port", "redis://xxxxx@cache:port"},
		{"redis://cache:6379/0", "redis://cache:6379/0"},
		{"sqlite://", "sqlite://"},
		{"file:app.db", "file:app.db"},
	} {
		require.Equal(t, tc.want, redact(tc.in), tc.in)
	}
}
