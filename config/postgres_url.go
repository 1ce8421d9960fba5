package config

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed postgres_settings.txt
var postgresSettingsFile string

// postgresSettings are the settings a client may set when it connects (see
// postgres_settings.txt), lower-cased.
var postgresSettings = func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(postgresSettingsFile) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// startupParameters are the keys of PostgreSQL's startup message that are
// not settings, which pgx passes on as it does settings.
var startupParameters = []string{"options", "replication"}

// postgresURLProblems returns what would stop a PostgreSQL DATABASE_URL
// from connecting before any connection is tried, each a phrase that
// follows the quoted URL: what the driver's parser (pgxpool.ParseConfig,
// which database.Open uses) refuses — a malformed sslmode, connect_timeout
// or pool_max_conns, a missing sslrootcert file — and each query parameter
// that is neither a parameter the driver reads nor a setting PostgreSQL lets
// a client set, which the server would refuse (a misspelt sslmode, say).
// Custom settings (names with a dot) pass. No phrase contains the URL's
// password.
func postgresURLProblems(raw string) []error {
	var secrets []string
	if u, err := url.Parse(raw); err == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw)
		}
		if pw := u.Query().Get("password"); pw != "" {
			secrets = append(secrets, pw)
		}
	}
	redact := func(s string) string {
		for _, secret := range secrets {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
		return s
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		// pgconn's message starts by quoting the URL; what follows says
		// what is wrong.
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "cannot parse `"); ok {
			if _, after, found := strings.Cut(rest, "`: "); found {
				msg = after
			}
		}
		return []error{errors.New("cannot be used: " + redact(msg))}
	}
	var unknown []string
	for name := range cfg.ConnConfig.RuntimeParams {
		lower := strings.ToLower(name)
		if postgresSettings[lower] || strings.Contains(name, ".") || slices.Contains(startupParameters, lower) {
			continue
		}
		unknown = append(unknown, name)
	}
	slices.Sort(unknown)
	var errs []error
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("has an unknown parameter %q: neither a connection parameter nor a PostgreSQL setting a client may set "+
			"(check its spelling; pass a setting this list lacks as options=-c %s=…)", redact(name), redact(name)))
	}
	return errs
}
