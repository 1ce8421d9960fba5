package config

import (
	"errors"
	"net/url"
	"strings"
)

// DatabaseDialect returns SQLite or Postgres, the kind of database
// DatabaseURL names, or "" when DatabaseURL is not valid (Validate reports
// why).
func (c Config) DatabaseDialect() string {
	dialect, _, err := parseDatabaseURL(c.DatabaseURL)
	if err != nil {
		return ""
	}
	return dialect
}

// SQLitePath returns the SQLite file DatabaseURL names: DefaultSQLitePath
// when it is empty, PATH for sqlite://PATH or file:PATH. It returns "" when
// DatabaseDialect is not SQLite.
func (c Config) SQLitePath() string {
	dialect, path, err := parseDatabaseURL(c.DatabaseURL)
	if err != nil || dialect != SQLite {
		return ""
	}
	return path
}

// parseDatabaseURL returns the dialect of a DATABASE_URL and, for SQLite, the
// file path. Errors are phrases that follow the quoted URL.
func parseDatabaseURL(raw string) (dialect, sqlitePath string, err error) {
	if raw == "" {
		return SQLite, DefaultSQLitePath, nil
	}
	scheme, rest, _ := strings.Cut(raw, ":")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return "", "", errors.New("is not a PostgreSQL URL")
		}
		if scheme != strings.ToLower(scheme) {
			// pgx, the driver, reads only the lower-case schemes.
			return "", "", errors.New("has an upper-case scheme (write postgres:// or postgresql://)")
		}
		if _, err := url.Parse(raw); err != nil {
			return "", "", errors.New("is not a valid URL")
		}
		return Postgres, "", nil
	case "sqlite":
		path, ok := strings.CutPrefix(rest, "//")
		if !ok {
			return "", "", errors.New("is not a SQLite URL")
		}
		sqlitePath = path
	case "file":
		sqlitePath = rest
		if strings.HasPrefix(rest, "//") { // file:///abs/path or file://localhost/abs/path
			u, err := url.Parse(raw)
			if err != nil || (u.Host != "" && u.Host != "localhost") {
				return "", "", errors.New("is not a local file URL")
			}
			sqlitePath = u.Path
		}
	default:
		return "", "", errors.New("has an unsupported scheme")
	}
	if sqlitePath == "" {
		return "", "", errors.New("has no file path")
	}
	if strings.Contains(sqlitePath, "?") {
		return "", "", errors.New("has query parameters, which are not supported")
	}
	return SQLite, sqlitePath, nil
}
