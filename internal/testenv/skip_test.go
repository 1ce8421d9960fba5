package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A backend's skip line names the variable that enables it, and one go test
// run (one parent process) says it once, however many packages start.
func TestSkipLineSaidOncePerRun(t *testing.T) {
	env, line := PostgreSQL.skipLine()
	require.Equal(t, PostgresURLEnv, env)
	require.Equal(t, "postgres: skipped (set TEST_DATABASE_URL=postgres://… to run on PostgreSQL, e.g. make test/pg)", line)
	env, line = RedisServer.skipLine()
	require.Equal(t, RedisURLEnv, env)
	require.Contains(t, line, "redis: skipped, miniredis ran instead (set TEST_REDIS_URL=redis://…")

	fake := "TESTENV_FAKE_" + randomHex(4)
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("sessionserver-testenv-%s-%d", fake, os.Getppid())))
	})
	require.True(t, firstInRun(fake), "the first package says it")
	require.False(t, firstInRun(fake), "the next package of the same run does not")
}
