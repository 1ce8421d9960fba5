package config_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// config is a leaf: it imports no package of this module (each package
// that uses a setting owns its default), and so neither River nor bun.
// Its tests may import the application; `go list -deps` without -test
// lists what the package itself brings in.
func TestImportsNoApplicationPackage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "listing config's imports needs the go command")
	self, err := exec.Command(goCmd, "list", "-f", "{{.ImportPath}} {{.Module.Path}}", ".").Output()
	require.NoError(t, err)
	path, module, ok := strings.Cut(strings.TrimSpace(string(self)), " ")
	require.True(t, ok, "%q", self)
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, path, "go list -deps lists the package itself")
	var bad []string
	for _, dep := range deps {
		if dep != path && (strings.HasPrefix(dep, module+"/") ||
			strings.HasPrefix(dep, "github.com/riverqueue/") || strings.HasPrefix(dep, "github.com/uptrace/bun")) {
			bad = append(bad, dep)
		}
	}
	require.Empty(t, bad, "config imports these (directly or not); give it the value instead and let the package that uses it own the default")
}

// The limits Validate checks without importing their owners are theirs.
func TestLimitsAreTheirOwners(t *testing.T) {
	t.Parallel()
	load := func(name, value string) error {
		_, err := config.Load(func(n string) (string, bool) { return value, n == name })
		return err
	}

	// bcrypt's input limit, which password.MaxLength is.
	require.NoError(t, load("SUPERADMIN_PASSWORD", strings.Repeat("p", password.MaxLength)))
	require.EqualError(t, load("SUPERADMIN_PASSWORD", strings.Repeat("p", password.MaxLength+1)),
		fmt.Sprintf("SUPERADMIN_PASSWORD: is %d bytes long (use at most %d bytes, bcrypt's limit)", password.MaxLength+1, password.MaxLength))

	// The session service's largest batch.
	require.NoError(t, load("CLEAN_SESSIONS_BATCH_SIZE", fmt.Sprint(session.MaxCleanSessionsBatchSize)))
	require.EqualError(t, load("CLEAN_SESSIONS_BATCH_SIZE", fmt.Sprint(session.MaxCleanSessionsBatchSize+1)),
		fmt.Sprintf("CLEAN_SESSIONS_BATCH_SIZE: %d is out of range (use 1..%d)", session.MaxCleanSessionsBatchSize+1, session.MaxCleanSessionsBatchSize))

	// The costs the password hasher takes.
	for cost := bcrypt.MinCost - 2; cost <= bcrypt.MaxCost+2; cost++ {
		c := config.Defaults()
		c.BcryptCost = cost
		_, err := password.NewBcrypt(cost)
		require.Equal(t, err == nil, c.Validate() == nil, "cost %d", cost)
	}

	// The dialect names database.Open takes.
	require.Equal(t, database.SQLite, config.SQLite)
	require.Equal(t, database.Postgres, config.Postgres)

	// The year of Vendure's durations, which auth's defaults count in.
	year, err := config.ParseDuration("1y", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, auth.Year, year)
}

// CLEAN_SESSIONS_SCHEDULE is accepted exactly when the job runner can
// parse it, with the runner's own words when it cannot.
func TestScheduleAsTheJobRunnerReadsIt(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"0 0 * * *", " 30 3 * * 1-5 ", "CRON_TZ=Europe/Berlin 30 3 * * 1-5", "TZ=UTC 0 0 * * *",
		"@daily", "@every 6h", "@reboot", "off", "OFF", " Off ",
		"", " ", "0 0 * *", "0 0 * * * *", "0 25 * * *", "0 0 30 2 *", "0 0 31 4 *", "@sometimes",
		"CRON_TZ=Nowhere/City 0 0 * * *", "@every 0s", "@every -1h", "*/0 * * * *",
	} {
		_, jobsErr := jobs.ParseSchedule(text)
		_, err := config.Load(func(n string) (string, bool) { return text, n == "CLEAN_SESSIONS_SCHEDULE" })
		if jobsErr == nil {
			require.NoError(t, err, "%q", text)
			continue
		}
		require.Error(t, err, "%q: the runner refuses it (%v)", text, jobsErr)
		require.True(t, strings.HasPrefix(err.Error(), "CLEAN_SESSIONS_SCHEDULE: "+jobsErr.Error()+" (use "),
			"%q: got %q, the runner says %q", text, err, jobsErr)
	}
}
