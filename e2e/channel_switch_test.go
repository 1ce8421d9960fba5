package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/session"
)

// activeChannelOf reads the session row of a token: what SetActiveChannel
// recorded, not a cached copy.
func activeChannelOf(t *testing.T, e *env, token string) entity.ID {
	t.Helper()
	var s entity.Session
	require.NoError(t, e.db.NewSelect().Model(&s).Where("token_hash = ?", session.HashToken(token)).Scan(context.Background()))
	require.NotNil(t, s.ActiveChannelID)
	return *s.ActiveChannelID
}

// sessionRows counts the session rows of a token (0 or 1).
func sessionRows(t *testing.T, e *env, token string) int {
	t.Helper()
	n, err := e.db.NewSelect().Model((*entity.Session)(nil)).Where("token_hash = ?", session.HashToken(token)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func customerChannelCount(t *testing.T, e *env, customerID, channelID entity.ID) int {
	t.Helper()
	n, err := e.db.NewSelect().Model((*entity.CustomerChannel)(nil)).
		Where("customer_id = ? AND channel_id = ?", customerID, channelID).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// One guest token used on one channel, then another, then the first again:
// each switch is recorded on the session (Vendure's setActiveChannel). The
// guest holds nothing at first, so it has no row (GUEST_SESSIONS=lazy); the
// first switch gives it one, with the new channel.
func TestChannelSwitchRecordsActiveChannel(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		second, err := e.app.Channels.Create(context.Background(), access.NewChannel{Code: "second-channel", Token: "second-token"})
		require.NoError(t, err)
		def := e.app.Channels.Default()

		shop := e.shop(testenv.Bearer)
		r := shop.Do(`{ activeCustomer { id } }`, nil) // Owner: creates a guest session
		require.Empty(t, r.Errors)
		require.NotEmpty(t, shop.Token)
		require.Zero(t, sessionRows(t, e, shop.Token), "a guest that holds nothing has no row")

		for _, step := range []struct {
			channel string
			want    *entity.Channel
		}{{"second-token", second}, {"second-token", second}, {"e2e-default-channel", def}, {"second-token", second}} {
			shop.Channel = step.channel
			r = shop.Do(`{ activeChannel { code } activeCustomer { id } }`, nil)
			require.Empty(t, r.Errors)
			require.JSONEq(t, `{"activeChannel":{"code":"`+step.want.Code+`"},"activeCustomer":null}`, string(r.Data))
			_, renewed := r.TokenHeader()
			require.False(t, renewed, "the same session keeps serving")
			require.Equal(t, step.want.ID, activeChannelOf(t, e, shop.Token))
		}
	})
}

// Vendure's customer-channel.e2e-spec: a customer who logs in on channel 2
// is assigned to it; one who switches to a channel is assigned there the
// first time, once.
func TestCustomerJoinsChannels(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		second, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "second-channel", Token: "second-token"})
		require.NoError(t, err)
		third, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "third-channel", Token: "third-token"})
		require.NoError(t, err)
		cust, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "hayden@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)

		shop := e.shop(testenv.Bearer)
		shop.Channel = "second-token"
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("hayden@example.com", "test"))).Login.Typename)
		require.Equal(t, 1, customerChannelCount(t, e, cust.ID, second.ID), "login on channel 2 assigns the customer to it")
		r := shop.Do(`{ me { identifier } }`, nil)
		require.Empty(t, r.Errors)
		require.Equal(t, second.ID, activeChannelOf(t, e, shop.Token))
		require.Zero(t, customerChannelCount(t, e, cust.ID, third.ID), "not before a request on it")

		shop.Channel = "third-token"
		for range 2 {
			r = shop.Do(`{ activeCustomer { id emailAddress } }`, nil)
			require.Empty(t, r.Errors)
			require.JSONEq(t, fmt.Sprintf(`{"activeCustomer":{"id":"%d","emailAddress":"hayden@example.com"}}`, cust.ID), string(r.Data))
			require.Equal(t, 1, customerChannelCount(t, e, cust.ID, third.ID))
			require.Equal(t, third.ID, activeChannelOf(t, e, shop.Token))
		}
	})
}

// Vendure #834: parallel requests of one logged-in customer on a channel
// new to them all succeed, and the customer is assigned to it exactly
// once. Run under -race.
func TestCustomerJoinsChannelConcurrently(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		cust, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "parallel@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		shop := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("parallel@example.com", "test"))).Login.Typename)
		// Created after the login, so no request of this session has seen it.
		fresh, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "fresh-channel", Token: "fresh-token"})
		require.NoError(t, err)

		const parallel = 20
		bodies := make([]string, parallel)
		errs := make([]error, parallel)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Go(func() {
				<-start
				bodies[i], errs[i] = postMe(e.srv.URL+app.ShopPath, shop.Token, "fresh-token")
			})
		}
		close(start)
		wg.Wait()
		for i := range parallel {
			require.NoError(t, errs[i])
			require.JSONEq(t, `{"data":{"me":{"identifier":"parallel@example.com"}}}`, bodies[i])
		}
		require.Equal(t, 1, customerChannelCount(t, e, cust.ID, fresh.ID))
		require.Equal(t, fresh.ID, activeChannelOf(t, e, shop.Token))
	})
}

// postMe sends `me` with a bearer token on a channel; safe to call from
// several goroutines (the test client holds a token and is not).
func postMe(url, token, channel string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"query":"{ me { identifier } }"}`)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("vendure-token", channel)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return string(body), nil
}
