package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/password"
)

// loginFailures returns the "login failed" lines of a server's log.
func loginFailures(l *logBuffer) []string { return l.linesWith(`msg="login failed"`) }

// TestFailedLoginsAreLogged: each failed login writes one WARN line, at the
// default log level, with the API, the reason, a masked identifier and the
// connection's address (not a forwarded one); the password and the whole
// identifier appear nowhere in the log.
func TestFailedLoginsAreLogged(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, nil)
		_, err := s.app.Users.CreateCustomer(context.Background(), access.NewCustomer{
			EmailAddress: "hayden.zieme@example.com", Password: "hayden-secret", FirstName: "Hayden", LastName: "Z",
			Verified: false, ChannelIDs: []entity.ID{s.app.Channels.Default().ID},
		})
		require.NoError(t, err)

		for _, c := range []struct {
			path, username, password   string
			api, reason, masked, typen string
		}{
			{app.AdminPath, "superadmin", "wrong-Pa55word", "admin", "wrong password", "su********in", "InvalidCredentialsError"},
			{app.AdminPath, "hayden.zieme@example.com", "hayden-secret", "admin", "unknown user", "h***@example.com", "InvalidCredentialsError"},
			{app.ShopPath, "ghost.user@example.com", "ghost-Pa55word", "shop", "unknown user", "g***@example.com", "InvalidCredentialsError"},
			{app.ShopPath, "Hayden.Zieme@example.com", "not-hayden-secret", "shop", "wrong password", "h***@example.com", "InvalidCredentialsError"},
			{app.ShopPath, "hayden.zieme@example.com", "hayden-secret", "shop", "not verified", "h***@example.com", "NotVerifiedError"},
		} {
			cl := s.client(t, c.path)
			cl.Header = map[string]string{"X-Forwarded-For": "198.51.100.9", "X-Real-IP": "198.51.100.10"}
			before := len(loginFailures(s.logs))
			r := cl.Do(loginMutation, creds(c.username, c.password))
			require.Empty(t, r.Errors)
			require.Equal(t, c.typen, decodeLogin(t, r).Login.Typename, c.username)

			lines := loginFailures(s.logs)
			require.Len(t, lines, before+1, "%s: one line per failed login", c.username)
			line := lines[before]
			require.Contains(t, line, "level=WARN")
			require.Contains(t, line, "api="+c.api)
			require.Contains(t, line, fmt.Sprintf("reason=%q", c.reason))
			require.Contains(t, line, "identifier="+c.masked)
			require.Contains(t, line, "client=127.0.0.1", "the connection's address")
			all := strings.ToLower(s.logs.String())
			require.NotContains(t, all, strings.ToLower(c.password), "never the password")
			require.NotContains(t, all, strings.ToLower(c.username), "never the whole identifier")
			require.NotContains(t, all, "198.51.100.", "forwarding headers are not trusted")
		}

		// A successful login adds no line.
		before := len(loginFailures(s.logs))
		r := s.client(t, app.AdminPath).Do(loginMutation, creds("superadmin", "superadmin"))
		require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
		require.Len(t, loginFailures(s.logs), before)
	})
}

// TestLoginRehashesOtherCosts: a stored hash of another bcrypt cost than
// BCRYPT_COST is replaced at the next successful login (not at a failed
// one), and the user logs in with the new hash.
func TestLoginRehashesOtherCosts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, func(c *config.Config) { c.BcryptCost = 5 })
		ctx := context.Background()
		var userID entity.ID
		require.NoError(t, s.app.DB.NewSelect().Table("user").Column("id").
			Where("identifier = ?", "superadmin").Scan(ctx, &userID))
		stored := func() string {
			var am entity.AuthenticationMethod
			require.NoError(t, s.app.DB.NewSelect().Model(&am).
				Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Scan(ctx))
			return *am.PasswordHash
		}
		require.True(t, strings.HasPrefix(stored(), "$2a$05$"), "seeded at BCRYPT_COST")

		for _, cost := range []int{4, 6} {
			h, err := password.NewBcrypt(cost)
			require.NoError(t, err)
			old, err := h.Hash(ctx, "superadmin")
			require.NoError(t, err)
			_, err = s.app.DB.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).Set("password_hash = ?", old).
				Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(ctx)
			require.NoError(t, err)

			admin := s.client(t, app.AdminPath)
			r := admin.Do(loginMutation, creds("superadmin", "wrong"))
			require.Equal(t, "InvalidCredentialsError", decodeLogin(t, r).Login.Typename)
			require.Equal(t, old, stored(), "cost %d: a failed login rehashes nothing", cost)

			r = admin.Do(loginMutation, creds("superadmin", "superadmin"))
			require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
			now := stored()
			require.True(t, strings.HasPrefix(now, "$2a$05$"), "cost %d: rehashed at BCRYPT_COST: %s", cost, now)
			require.Equal(t, "superadmin", decodeMe(t, admin.Do(meQuery, nil)).Me.Identifier)

			r = s.client(t, app.AdminPath).Do(loginMutation, creds("superadmin", "superadmin"))
			require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
			require.Equal(t, now, stored(), "a current hash is kept")
		}
	})
}

// TestLoginsQueueForOneHashingSlot: with PASSWORD_HASH_CONCURRENCY=1, many
// logins at once all get their own answer; none is lost or mixed up.
func TestLoginsQueueForOneHashingSlot(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, func(c *config.Config) { c.PasswordHashConcurrency = 1 })
		const wrong = 8
		typenames := make(chan string, wrong+1)
		for i := range wrong + 1 {
			go func() {
				pw := "superadmin"
				if i < wrong {
					pw = fmt.Sprintf("wrong-%d", i)
				}
				body, err := rawLogin(s.url+app.AdminPath, "superadmin", pw)
				if err != nil {
					typenames <- err.Error()
					return
				}
				typenames <- body
			}()
		}
		counts := map[string]int{}
		for range wrong + 1 {
			counts[<-typenames]++
		}
		require.Equal(t, map[string]int{"InvalidCredentialsError": wrong, "CurrentUser": 1}, counts)
		require.Len(t, loginFailures(s.logs), wrong)
	})
}

// TestHashingPoolTimeoutIsAnInternalError: a login that found no hashing
// slot in time fails with the error the pool returns (service tests show
// that); the GraphQL layer answers it, as gqlgen hands it over, with
// INTERNAL_SERVER_ERROR and the generic message, never its text.
func TestHashingPoolTimeoutIsAnInternalError(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	present := gqlutil.NewErrorPresenter(slog.New(slog.NewTextHandler(logs, nil)))
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Name: "login", Alias: "login"}},
	})
	busy := fmt.Errorf("check password: %w", fmt.Errorf("%w: context deadline exceeded", password.ErrBusy))
	for _, err := range []error{busy, graphql.ErrorOnPath(ctx, busy)} {
		got := present(ctx, err)
		require.Equal(t, gqlerr.CodeInternal, got.Extensions["code"])
		require.Equal(t, gqlerr.MsgInternal, got.Message)
		require.NotContains(t, got.Error(), "hash")
	}
	require.Contains(t, logs.String(), "no free slot", "logged for the operator")
}

// rawLogin posts loginMutation and returns the result's __typename (or the
// first error's code). It may run outside the test's goroutine.
func rawLogin(url, username, pw string) (string, error) {
	body, err := json.Marshal(map[string]any{"query": loginMutation, "variables": creds(username, pw)})
	if err != nil {
		return "", err
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data   *loginResult `json:"data"`
		Errors []testenv.Error
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	if len(out.Errors) > 0 {
		return out.Errors[0].Code(), nil
	}
	return out.Data.Login.Typename, nil
}
