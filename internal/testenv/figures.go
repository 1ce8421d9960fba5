package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FiguresFileEnv names the environment variable holding the path of a file
// the outage tests append their figures to, one line each (ReportOutage).
// go test shows no output of a passing test, so CI sets it and prints the
// file after the run. Unset, the figures are only logged.
const FiguresFileEnv = "TEST_FIGURES_FILE"

// Outage is what an outage test counted while it injected a fault. The
// counts are of the requests the test sent, whatever the machine's speed;
// nothing is timed on the wall clock.
type Outage struct {
	// Name is the fault, in lower-case words joined by hyphens:
	// redis-cut, postgres-stall, partition-sync-round…
	Name string
	// Backend is the database and the cache strategy, e.g.
	// postgres+memory or sqlite+redis+memory.
	Backend string
	// Served counts the requests sent during the fault that got the
	// answer a healthy server gives (from a fallback, such as the
	// database instead of the cache, included).
	Served int
	// Failed counts the requests sent during the fault that failed
	// (an error answer; the test says which it expects).
	Failed int
	// Stale counts the answers during the fault that a healthy server
	// would not give: a revoked token answered as its user.
	Stale int
	// RecoverSeconds is how long the server took, after the fault ended
	// (for a partition: after the revocation it could not hear of),
	// until its answers were a healthy server's again: seconds on the
	// test's injected clock, plus one period of the background cache
	// sync (a second in production) for each sync round it needed.
	RecoverSeconds float64
}

// String is the figures' line: "OUTAGE <name> backend=<backend>
// served=<n> failed=<n> stale=<n> recover_s=<seconds>", always those fields
// in that order.
func (o Outage) String() string {
	return fmt.Sprintf("OUTAGE %s backend=%s served=%d failed=%d stale=%d recover_s=%s",
		o.Name, o.Backend, o.Served, o.Failed, o.Stale, strconv.FormatFloat(o.RecoverSeconds, 'f', -1, 64))
}

// ReportOutage logs o's line, with the test's name after it, and appends
// the same line to the file named by TEST_FIGURES_FILE when it is set.
// Call it before asserting on the counts, so a failing test's figures are
// there too. A file that cannot be written fails the test.
func ReportOutage(t testing.TB, o Outage) {
	t.Helper()
	line := o.String() + " test=" + strings.ReplaceAll(t.Name(), " ", "_")
	t.Log(line)
	if path := os.Getenv(FiguresFileEnv); path != "" {
		if err := appendLine(path, line); err != nil {
			t.Errorf("testenv: %s: %v", FiguresFileEnv, err)
		}
	}
}

// figuresMu orders this process's appends; O_APPEND and one write per line
// keep lines whole across processes (the packages of one go test run)
// on a local file system.
var figuresMu sync.Mutex

// appendLine appends line and a newline to the file at path, creating it,
// in a single write.
func appendLine(path, line string) error {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(line + "\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
