package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOutageLine(t *testing.T) {
	t.Parallel()
	o := Outage{Name: "redis-cut", Backend: "postgres+redis", Served: 3, Failed: 1, Stale: 0, RecoverSeconds: 1}
	require.Equal(t, "OUTAGE redis-cut backend=postgres+redis served=3 failed=1 stale=0 recover_s=1", o.String())
	o.RecoverSeconds = 0.5
	require.True(t, strings.HasSuffix(o.String(), " recover_s=0.5"))
}

// Lines appended at once by many goroutines (as parallel tests do) all
// arrive, each whole.
func TestAppendLineConcurrently(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "figures.txt")
	const n = 64
	line := "OUTAGE x backend=y served=1 failed=0 stale=0 recover_s=0 test=" + strings.Repeat("z", 200)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { require.NoError(t, appendLine(path, line)) })
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, n)
	for _, l := range lines {
		require.Equal(t, line, l)
	}
}

func TestReportOutageAppendsToTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "figures.txt")
	t.Setenv(FiguresFileEnv, path)
	ReportOutage(t, Outage{Name: "a", Backend: "sqlite+memory", Served: 2})
	ReportOutage(t, Outage{Name: "b", Backend: "sqlite+memory", Failed: 4})
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t,
		"OUTAGE a backend=sqlite+memory served=2 failed=0 stale=0 recover_s=0 test=TestReportOutageAppendsToTheFile\n"+
			"OUTAGE b backend=sqlite+memory served=0 failed=4 stale=0 recover_s=0 test=TestReportOutageAppendsToTheFile\n",
		string(b))
}
