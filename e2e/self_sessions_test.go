package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// The self-service session documents, as a storefront's or an admin UI's
// "your devices" page sends them.
const (
	activeSessionsQuery = `query ActiveSessions {
  activeSessions {
    id type current createdAt expires lastUsedAt clientAddress userAgent browser operatingSystem deviceType
    user { id identifier } activeChannel { code } authenticationStrategy
  }
}`
	revokeSessionMutation       = `mutation RevokeSession($id: ID!) { revokeSession(id: $id) { success } }`
	revokeOtherSessionsMutation = `mutation { revokeOtherSessions }`
)

// Two browsers' User-Agent headers.
const (
	firefoxOnLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariOnIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

// ownSession is one item of activeSessionsQuery.
type ownSession struct {
	ID              string     `json:"id"`
	Type            string     `json:"type"`
	Current         bool       `json:"current"`
	CreatedAt       time.Time  `json:"createdAt"`
	Expires         time.Time  `json:"expires"`
	LastUsedAt      *time.Time `json:"lastUsedAt"`
	ClientAddress   *string    `json:"clientAddress"`
	UserAgent       *string    `json:"userAgent"`
	Browser         *string    `json:"browser"`
	OperatingSystem *string    `json:"operatingSystem"`
	DeviceType      string     `json:"deviceType"`
	User            *struct {
		ID         string `json:"id"`
		Identifier string `json:"identifier"`
	} `json:"user"`
	ActiveChannel *struct {
		Code string `json:"code"`
	} `json:"activeChannel"`
	AuthenticationStrategy *string `json:"authenticationStrategy"`
}

// activeSessions sends activeSessionsQuery; the response must have no error.
func activeSessions(t *testing.T, c *testenv.Client) []ownSession {
	t.Helper()
	r := c.Do(activeSessionsQuery, nil)
	require.Empty(t, r.Errors)
	var out struct {
		ActiveSessions []ownSession `json:"activeSessions"`
	}
	r.Decode(t, &out)
	return out.ActiveSessions
}

// currentOf is the one session of a list marked current.
func currentOf(t *testing.T, list []ownSession) ownSession {
	t.Helper()
	var out []ownSession
	for _, s := range list {
		if s.Current {
			out = append(out, s)
		}
	}
	require.Len(t, out, 1, "one session is current: %+v", list)
	return out[0]
}

// revokeSession sends revokeSessionMutation and returns its success.
func revokeSession(t *testing.T, c *testenv.Client, id string) (bool, *testenv.Response) {
	t.Helper()
	r := c.Do(revokeSessionMutation, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	var out struct {
		RevokeSession struct{ Success bool } `json:"revokeSession"`
	}
	r.Decode(t, &out)
	return out.RevokeSession.Success, r
}

// revokeOtherSessions sends revokeOtherSessionsMutation and returns the count.
func revokeOtherSessions(t *testing.T, c *testenv.Client) int {
	t.Helper()
	r := c.Do(revokeOtherSessionsMutation, nil)
	require.Empty(t, r.Errors)
	var out struct {
		RevokeOtherSessions int `json:"revokeOtherSessions"`
	}
	r.Decode(t, &out)
	return out.RevokeOtherSessions
}

// browser is a client of api that keeps the session cookie, as a browser
// does, and sends its User-Agent from addr through the trusted proxy.
func (e *env) browser(api string, agent, addr string) *testenv.Client {
	c := e.shop(testenv.Cookie)
	if api == "admin" {
		c = e.admin(testenv.Cookie)
	}
	c.Header = map[string]string{"User-Agent": agent, "X-Forwarded-For": addr}
	return c
}

// login logs c in; the answer must be a CurrentUser.
func login(t *testing.T, c *testenv.Client, username, password string) {
	t.Helper()
	l := decodeLogin(t, c.Do(loginMutation, creds(username, password))).Login
	require.Equal(t, "CurrentUser", l.Typename, "%s: %s", username, l.Message)
}

// signedIn: c's session is a logged-in user's (me answers).
func signedIn(t *testing.T, c *testenv.Client) bool {
	t.Helper()
	r := c.Do(shopMeQuery, nil)
	if len(r.Errors) == 0 {
		return true
	}
	require.Equal(t, "FORBIDDEN", r.ErrorCode())
	return false
}

// A customer signed in from a laptop and a phone sees both sessions, each
// described, the phone's marked current; ends the laptop's from the phone
// (its next request is signed out); cannot end another customer's session
// (the same answer as an unknown id, and that session keeps working); ends
// every other session at once; ends its current one (a logout: the cookie
// is cleared). A logout leaves the other devices signed in (LOGOUT_SCOPE=
// session, the default) and a password change ends them. A guest is
// refused.
func TestShopActiveSessions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withTrustedProxies())
		e.newCustomer(t, "devices@example.com", "Devices")
		e.newCustomer(t, "neighbour@example.com", "Neighbour")

		laptop := e.browser("shop", firefoxOnLinux, "198.51.100.7")
		login(t, laptop, "devices@example.com", "test")
		require.True(t, signedIn(t, laptop))
		e.clock.Advance(2 * time.Minute)
		phone := e.browser("shop", safariOnIPhone, "203.0.113.9")
		login(t, phone, "devices@example.com", "test")

		list := activeSessions(t, phone)
		require.Len(t, list, 2, "%+v", list)
		p, l := list[0], list[1] // the phone was used last
		require.True(t, p.Current)
		require.False(t, l.Current)
		require.Equal(t, "AUTHENTICATED", p.Type)
		require.Equal(t, "devices@example.com", p.User.Identifier)
		require.Equal(t, "native", *p.AuthenticationStrategy)
		require.Equal(t, "__default_channel__", p.ActiveChannel.Code)
		require.Equal(t, "203.0.113.9", *p.ClientAddress)
		require.Equal(t, safariOnIPhone, *p.UserAgent)
		require.Equal(t, "Safari", *p.Browser)
		require.Equal(t, "iOS", *p.OperatingSystem)
		require.Equal(t, "MOBILE", p.DeviceType)
		require.NotNil(t, p.LastUsedAt)
		require.Equal(t, "198.51.100.7", *l.ClientAddress)
		require.Equal(t, "Firefox", *l.Browser)
		require.Equal(t, "Linux", *l.OperatingSystem)
		require.Equal(t, "DESKTOP", l.DeviceType)
		require.True(t, l.LastUsedAt.Before(*p.LastUsedAt))
		// The laptop sees the same two, itself current.
		fromLaptop := activeSessions(t, laptop)
		require.Len(t, fromLaptop, 2)
		for _, s := range fromLaptop {
			require.Equal(t, s.ID == l.ID, s.Current)
		}

		// Another customer's session: the same answer as an unknown id,
		// and it keeps working.
		neighbour := e.browser("shop", firefoxOnLinux, "192.0.2.44")
		login(t, neighbour, "neighbour@example.com", "test")
		theirs := activeSessions(t, neighbour)
		require.Len(t, theirs, 1)
		for _, id := range []string{theirs[0].ID, missing} {
			ok, r := revokeSession(t, phone, id)
			require.False(t, ok, id)
			_, cleared := r.TokenHeader()
			require.False(t, cleared, "the caller's token is not touched")
		}
		require.True(t, signedIn(t, neighbour))
		require.Len(t, activeSessions(t, phone), 2)

		// Ending the laptop's session from the phone signs the laptop out.
		ok, _ := revokeSession(t, phone, l.ID)
		require.True(t, ok)
		require.False(t, signedIn(t, laptop), "the laptop is signed out")
		require.Nil(t, queryActiveCustomer(t, laptop).ActiveCustomer)
		require.True(t, signedIn(t, phone))
		ok, _ = revokeSession(t, phone, l.ID)
		require.False(t, ok, "an ended session is unknown")

		// Every other session at once.
		tablet, desktop := e.browser("shop", safariOnIPhone, "203.0.113.10"), e.browser("shop", firefoxOnLinux, "198.51.100.8")
		login(t, tablet, "devices@example.com", "test")
		login(t, desktop, "devices@example.com", "test")
		require.Len(t, activeSessions(t, phone), 3)
		require.Equal(t, 2, revokeOtherSessions(t, phone))
		require.False(t, signedIn(t, tablet))
		require.False(t, signedIn(t, desktop))
		require.True(t, signedIn(t, phone))
		require.True(t, signedIn(t, neighbour))
		require.Zero(t, revokeOtherSessions(t, phone))

		// The current session: a logout, the cookie cleared.
		login(t, laptop, "devices@example.com", "test")
		both := activeSessions(t, phone)
		require.Len(t, both, 2)
		current := currentOf(t, both)
		ok, r := revokeSession(t, phone, current.ID)
		require.True(t, ok)
		c := r.SessionCookie("session")
		require.NotNil(t, c, "the cookie is cleared")
		require.Less(t, c.MaxAge, 0)
		require.Nil(t, phone.Cookie)
		require.False(t, signedIn(t, phone))
		require.True(t, signedIn(t, laptop))

		// A logout ends only its own session; a password change the others.
		login(t, phone, "devices@example.com", "test")
		login(t, tablet, "devices@example.com", "test")
		require.Len(t, activeSessions(t, laptop), 3)
		requireData(t, tablet.Do(logoutMutation, nil), `{"logout":{"success":true}}`)
		require.True(t, signedIn(t, laptop))
		require.True(t, signedIn(t, phone))
		require.Len(t, activeSessions(t, laptop), 2)
		require.True(t, do(t, phone, updatePasswordMutation, map[string]any{"currentPassword": "test", "newPassword": "changed-pw"}).Success)
		require.False(t, signedIn(t, laptop))
		after := activeSessions(t, phone)
		require.Len(t, after, 1)
		require.True(t, after[0].Current)

		// A guest, with a session or without, is refused.
		guest := e.shop(testenv.Cookie)
		for range 2 { // the first Owner request gives the guest a session
			require.Equal(t, "FORBIDDEN", guest.Do(activeSessionsQuery, nil).ErrorCode())
			require.Equal(t, "FORBIDDEN", guest.Do(revokeSessionMutation, map[string]any{"id": after[0].ID}).ErrorCode())
			require.Equal(t, "FORBIDDEN", guest.Do(revokeOtherSessionsMutation, nil).ErrorCode())
		}
		require.NotNil(t, guest.Cookie)
		require.True(t, signedIn(t, phone))
	})
}

// The same on the Admin API for administrators: the superadmin on two
// browsers ends the other; another administrator's session id gets the
// answer of an unknown one; the sessions list marks the caller's session
// current; the audit log records the ends; a customer's token is refused.
func TestAdminActiveSessions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withTrustedProxies())
		desk := e.browser("admin", firefoxOnLinux, "198.51.100.20")
		login(t, desk, "superadmin", "superadmin")
		e.clock.Advance(2 * time.Minute)
		phone := e.browser("admin", safariOnIPhone, "203.0.113.20")
		login(t, phone, "superadmin", "superadmin")
		// An administrator without any permission to read sessions.
		colleague := e.adminWith(t, "colleague", "ReadCatalog")

		list := activeSessions(t, phone)
		require.Len(t, list, 2)
		require.True(t, list[0].Current)
		require.Equal(t, "MOBILE", list[0].DeviceType)
		require.Equal(t, "203.0.113.20", *list[0].ClientAddress)
		require.Equal(t, "DESKTOP", list[1].DeviceType)
		deskID := list[1].ID

		// The sessions list marks the caller's own session too.
		page := phone.Do(`{ sessions(options: {filter: {userId: {eq: "`+list[0].User.ID+`"}}}) { items { id current browser deviceType } } }`, nil)
		require.Empty(t, page.Errors)
		var sessions struct {
			Sessions struct {
				Items []struct {
					ID         string `json:"id"`
					Current    bool   `json:"current"`
					Browser    string `json:"browser"`
					DeviceType string `json:"deviceType"`
				} `json:"items"`
			} `json:"sessions"`
		}
		page.Decode(t, &sessions)
		require.Len(t, sessions.Sessions.Items, 2)
		for _, it := range sessions.Sessions.Items {
			require.Equal(t, it.ID == list[0].ID, it.Current, "%+v", it)
		}

		theirs := activeSessions(t, colleague)
		require.Len(t, theirs, 1)
		ok, _ := revokeSession(t, phone, theirs[0].ID)
		require.False(t, ok)
		ok, _ = revokeSession(t, phone, missing)
		require.False(t, ok)
		require.Empty(t, colleague.Do(meQuery, nil).Errors, "the colleague's session still works")

		ok, _ = revokeSession(t, phone, deskID)
		require.True(t, ok)
		require.Equal(t, "FORBIDDEN", desk.Do(meQuery, nil).ErrorCode())
		login(t, desk, "superadmin", "superadmin")
		require.Equal(t, 1, revokeOtherSessions(t, phone))
		require.Equal(t, "FORBIDDEN", desk.Do(meQuery, nil).ErrorCode())
		require.Empty(t, phone.Do(meQuery, nil).Errors)

		// Each end is in the audit log, under the caller and its address.
		r := phone.Do(`{ auditEntries(options: {filter: {action: {eq: "SESSIONS_ENDED"}}, sort: {id: ASC}}) {
			items { actorIdentifier clientAddress entityType entityId detail } } }`, nil)
		require.Empty(t, r.Errors)
		requireData(t, r, `{"auditEntries":{"items":[
			{"actorIdentifier":"superadmin","clientAddress":"203.0.113.20","entityType":"Session","entityId":"`+theirs[0].ID+`","detail":"own session: 0 ended"},
			{"actorIdentifier":"superadmin","clientAddress":"203.0.113.20","entityType":"Session","entityId":"`+missing+`","detail":"own session: 0 ended"},
			{"actorIdentifier":"superadmin","clientAddress":"203.0.113.20","entityType":"Session","entityId":"`+deskID+`","detail":"own session: 1 ended"},
			{"actorIdentifier":"superadmin","clientAddress":"203.0.113.20","entityType":"User","entityId":"`+list[0].User.ID+`","detail":"own other sessions: 1 ended"}]}}`)

		// A customer's token is no administrator's.
		e.newCustomer(t, "admin-api-shopper@example.com", "Shopper")
		shopper := e.shop(testenv.Bearer)
		login(t, shopper, "admin-api-shopper@example.com", "test")
		asAdmin := e.admin(testenv.Bearer)
		asAdmin.Token = shopper.Token
		require.Equal(t, "FORBIDDEN", asAdmin.Do(activeSessionsQuery, nil).ErrorCode())
		require.Equal(t, "FORBIDDEN", asAdmin.Do(revokeOtherSessionsMutation, nil).ErrorCode())
		require.Len(t, activeSessions(t, shopper), 1, "the customer's session is untouched")
	})
}
