package config

import (
	"net/url"
	"regexp"
	"strings"
)

// redact returns a DATABASE_URL or REDIS_URL with its password replaced by
// "xxxxx", for error messages. It handles URLs
// (postgres://user:pass@host/db, redis://:pass@host, and a password query
// parameter) and keyword/value strings (password=...), which an operator
// may put in DATABASE_URL by mistake.
//
// A URL is rewritten by (*url.URL).Redacted only when it holds a password:
// re-encoding would otherwise change what the operator wrote ("sqlite://"
// comes back as "sqlite:"). An unparsable URL may hold a password anywhere,
// so everything between its "://" and its last "@" is hidden, and a
// password=... in it as well.
func redact(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			i := strings.Index(dsn, "://")
			dsn = dsn[:i+3] + "xxxxx" + dsn[at:]
		}
		return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	_, hasPassword := u.User.Password()
	q := u.Query()
	if !hasPassword && !q.Has("password") {
		return dsn
	}
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// keywordPassword matches the password setting of a keyword/value
// connection string, quoted (with backslash escapes) or not.
var keywordPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)
