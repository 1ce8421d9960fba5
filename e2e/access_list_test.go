package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

const (
	channelsQuery = `query Channels($options: ChannelListOptions) {
  channels(options: $options) { totalItems items { id code token } }
}`
	rolesQuery = `query Roles($options: RoleListOptions) {
  roles(options: $options) { totalItems items { id code permissions channels { id } } }
}`
	deleteChannelsMutation = `mutation DeleteChannels($ids: [ID!]!) { deleteChannels(ids: $ids) { result message } }`
	deleteRolesMutation    = `mutation DeleteRoles($ids: [ID!]!) { deleteRoles(ids: $ids) { result message } }`
	auditQuery             = `query Audit($options: AuditEntryListOptions) {
  auditEntries(options: $options) {
    totalItems
    items { id createdAt actorUserId actorIdentifier clientAddress channelId action entityType entityId detail }
  }
}`
)

// codeList is a channels or roles page: its total and its items' codes.
type codeList struct {
	TotalItems int `json:"totalItems"`
	Items      []struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"items"`
}

func (l codeList) codes() []string {
	out := []string{}
	for _, it := range l.Items {
		out = append(out, it.Code)
	}
	return out
}

// auditEntry is an AuditEntry as the Admin API answers it.
type auditEntry struct {
	ID              string  `json:"id"`
	ActorUserID     *string `json:"actorUserId"`
	ActorIdentifier string  `json:"actorIdentifier"`
	ClientAddress   string  `json:"clientAddress"`
	ChannelID       *string `json:"channelId"`
	Action          string  `json:"action"`
	EntityType      string  `json:"entityType"`
	EntityID        *string `json:"entityId"`
	Detail          string  `json:"detail"`
}

type auditList struct {
	TotalItems int          `json:"totalItems"`
	Items      []auditEntry `json:"items"`
}

// The channels and roles lists show what the caller may see, with its
// exact total, and take Vendure's list options; deleteChannels and
// deleteRoles answer one DeletionResponse per id.
func TestChannelAndRoleLists(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		zone := e.app.Channels.Default().DefaultTaxZoneID.String()
		var channelIDs []string
		for _, code := range []string{"beta", "alpha", "gamma"} {
			r := admin.Do(specCreateChannel, map[string]any{"input": map[string]any{
				"code": code, "token": code + "-token", "defaultLanguageCode": "en", "currencyCode": "USD",
				"pricesIncludeTax": false, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
			}})
			channelIDs = append(channelIDs, dataField[idOf](t, r, "createChannel").ID)
		}

		// Every channel, by id; sorted, filtered and paged.
		all := dataField[codeList](t, admin.Do(channelsQuery, nil), "channels")
		require.Equal(t, 4, all.TotalItems)
		require.Equal(t, []string{entity.DefaultChannelCode, "beta", "alpha", "gamma"}, all.codes())
		page := dataField[codeList](t, admin.Do(channelsQuery, map[string]any{"options": map[string]any{
			"sort": map[string]any{"code": "ASC"}, "skip": 1, "take": 2,
		}}), "channels")
		require.Equal(t, 4, page.TotalItems)
		require.Equal(t, []string{"alpha", "beta"}, page.codes())
		filtered := dataField[codeList](t, admin.Do(channelsQuery, map[string]any{"options": map[string]any{
			"filter": map[string]any{"code": map[string]any{"in": []string{"alpha", "gamma"}}}, "sort": map[string]any{"id": "DESC"},
		}}), "channels")
		require.Equal(t, 2, filtered.TotalItems)
		require.Equal(t, []string{"gamma", "alpha"}, filtered.codes())
		r := admin.Do(channelsQuery, map[string]any{"options": map[string]any{"take": 101}})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)

		// A role on beta with ReadChannel and ReadAdministrator there; its
		// administrator lists beta alone, and only the roles it may see.
		r = admin.Do(specCreateRole, roleInput(map[string]any{
			"code": "beta-reader", "description": "reads beta", "channelIds": []string{channelIDs[0]},
			"permissions": []string{"ReadChannel", "ReadAdministrator"},
		}))
		betaReader := dataField[roleView](t, r, "createRole")
		e.newAdministrator(t, "beta@example.com", mustID(t, betaReader.ID))
		limited := e.admin(testenv.Bearer)
		asUserWithCredentials(t, limited, "beta@example.com", "test")
		require.Equal(t, "beta-token", limited.Channel)
		mine := dataField[codeList](t, limited.Do(channelsQuery, nil), "channels")
		require.Equal(t, 1, mine.TotalItems)
		require.Equal(t, []string{"beta"}, mine.codes())
		roles := dataField[codeList](t, limited.Do(rolesQuery, nil), "roles")
		require.Equal(t, 1, roles.TotalItems, "%+v", roles)
		require.Equal(t, []string{"beta-reader"}, roles.codes())
		withChannels := dataField[struct {
			Items []roleView `json:"items"`
		}](t, limited.Do(rolesQuery, nil), "roles")
		require.Equal(t, []string{channelIDs[0]}, withChannels.Items[0].channelIDs())
		// On the default channel it holds nothing.
		limited.Channel = ""
		requireGraphQLError(t, limited.Do(channelsQuery, nil), "FORBIDDEN", "You are not currently authorized to perform this action")

		// The superadmin sees every role.
		roles = dataField[codeList](t, admin.Do(rolesQuery, map[string]any{"options": map[string]any{
			"filter": map[string]any{"code": map[string]any{"contains": "ROLE"}}, "sort": map[string]any{"code": "DESC"},
		}}), "roles")
		require.Equal(t, []string{entity.SuperAdminRoleCode, entity.CustomerRoleCode}, roles.codes())
		// The Customer role is on every channel.
		withChannels = dataField[struct {
			Items []roleView `json:"items"`
		}](t, admin.Do(rolesQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"code": map[string]any{"eq": entity.CustomerRoleCode}}}}), "roles")
		require.Equal(t, append([]string{e.app.Channels.Default().ID.String()}, channelIDs...), withChannels.Items[0].channelIDs())

		// deleteRoles and deleteChannels: one answer per id, in order; the
		// default channel is not deleted.
		var spare []string
		for _, code := range []string{"spare-1", "spare-2"} {
			r := admin.Do(specCreateRole, roleInput(map[string]any{"code": code, "description": code, "permissions": []string{"ReadCatalog"}}))
			spare = append(spare, dataField[roleView](t, r, "createRole").ID)
		}
		// All or none, as Vendure's deleteRoles (one transaction): the
		// SuperAdmin role is refused, so the spare role before it stays.
		superAdminRole, _ := e.builtInRoleIDs(t)
		r = admin.Do(deleteRolesMutation, map[string]any{"ids": []string{spare[0], superAdminRole}})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)
		require.Equal(t, spare[0], dataField[roleView](t, admin.Do(specGetRole, map[string]any{"id": spare[0]}), "role").ID)
		requireData(t, admin.Do(deleteRolesMutation, map[string]any{"ids": append(spare, spare[0])}),
			`{"deleteRoles":[{"result":"DELETED","message":null},{"result":"DELETED","message":null},{"result":"DELETED","message":null}]}`)
		requireData(t, admin.Do(deleteChannelsMutation, map[string]any{"ids": []string{channelIDs[2], e.app.Channels.Default().ID.String()}}),
			`{"deleteChannels":[{"result":"DELETED","message":null},{"result":"NOT_DELETED","message":"The default Channel cannot be deleted"}]}`)
		require.Equal(t, 3, dataField[codeList](t, admin.Do(channelsQuery, nil), "channels").TotalItems)
		// More ids than one request may delete are refused before any is.
		many := make([]string, 101)
		for i := range many {
			many[i] = channelIDs[1]
		}
		r = admin.Do(deleteChannelsMutation, map[string]any{"ids": many})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)
		require.Equal(t, 3, dataField[codeList](t, admin.Do(channelsQuery, nil), "channels").TotalItems)
	})
}

// Every administrative change, and every session an administrator ends,
// is in the audit log with who, from where, on which channel, what and
// when; a change that fails leaves no entry; the log holds no personal
// data; reading it takes ReadAdministrator, and on another channel than the
// default one shows that channel's entries only.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		superID := decodeMe(t, admin.Do(meQuery, nil)).Me.ID
		zone := e.app.Channels.Default().DefaultTaxZoneID.String()
		r := admin.Do(specCreateChannel, map[string]any{"input": map[string]any{
			"code": "audited", "token": "audited-token", "defaultLanguageCode": "en", "currencyCode": "EUR",
			"pricesIncludeTax": true, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
		}})
		channelID := dataField[idOf](t, r, "createChannel").ID
		requireData(t, admin.Do(`mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { ... on Channel { code } } }`,
			map[string]any{"input": map[string]any{"id": channelID, "pricesIncludeTax": false, "code": "audited-2"}}),
			`{"updateChannel":{"code":"audited-2"}}`)
		// A role made through a request on the new channel.
		admin.Channel = "audited-token"
		r = admin.Do(specCreateRole, roleInput(map[string]any{
			"code": "auditor", "description": "reads", "permissions": []string{"ReadAdministrator"},
		}))
		auditor := dataField[roleView](t, r, "createRole")
		admin.Channel = ""
		requireData(t, admin.Do(`mutation($input: UpdateRoleInput!) { updateRole(input: $input) { code } }`,
			roleInput(map[string]any{"id": auditor.ID, "permissions": []string{"ReadAdministrator", "ReadCustomer"}})),
			`{"updateRole":{"code":"auditor"}}`)
		// A failed change writes nothing: the code is taken.
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "auditor", "description": "again", "permissions": []string{"ReadCatalog"}}))
		require.NotEmpty(t, r.Errors)
		// A customer whose sessions the superadmin ends.
		shopper := e.shop(testenv.Bearer)
		e.newCustomer(t, "audited-shopper@example.com", "Secret-Name")
		require.Equal(t, "CurrentUser", decodeLogin(t, shopper.Do(loginMutation, creds("audited-shopper@example.com", "test"))).Login.Typename)
		shopperID := decodeMe(t, shopper.Do(meQuery, nil)).Me.ID
		requireData(t, admin.Do(`mutation($id: ID!) { deleteSessionsByUser(userId: $id) { count } }`, map[string]any{"id": shopperID}),
			`{"deleteSessionsByUser":{"count":1}}`)
		requireData(t, admin.Do(`mutation($id: ID!) { deleteRole(id: $id) { result } }`, map[string]any{"id": auditor.ID}),
			`{"deleteRole":{"result":"DELETED"}}`)

		log := dataField[auditList](t, admin.Do(auditQuery, nil), "auditEntries")
		type seen struct{ action, entityType, entityID, detail, channel string }
		var got []seen
		for _, it := range log.Items {
			require.Equal(t, "superadmin", it.ActorIdentifier)
			require.NotNil(t, it.ActorUserID)
			require.Equal(t, superID, *it.ActorUserID)
			require.Equal(t, "127.0.0.1", it.ClientAddress)
			require.NotNil(t, it.EntityID)
			require.NotNil(t, it.ChannelID)
			got = append(got, seen{it.Action, it.EntityType, *it.EntityID, it.Detail, *it.ChannelID})
		}
		def := e.app.Channels.Default().ID.String()
		require.Equal(t, []seen{
			{"DELETED", "Role", auditor.ID, "code: auditor", def},
			{"SESSIONS_ENDED", "User", shopperID, "1 ended", def},
			{"UPDATED", "Role", auditor.ID, "permissions: Authenticated,ReadAdministrator,ReadCustomer", def},
			{"CREATED", "Role", auditor.ID, "code: auditor; permissions: Authenticated,ReadAdministrator; channelIds: " + channelID, channelID},
			{"UPDATED", "Channel", channelID, "code: audited-2; pricesIncludeTax", def},
			{"CREATED", "Channel", channelID, "code: audited", def},
		}, got)
		require.Equal(t, 6, log.TotalItems)
		for _, it := range log.Items {
			require.NotContains(t, it.Detail, "audited-shopper")
			require.NotContains(t, it.Detail, "Secret-Name")
		}

		// Filtered, sorted and paged with the list options.
		roleLog := dataField[auditList](t, admin.Do(auditQuery, map[string]any{"options": map[string]any{
			"filter": map[string]any{"entityType": map[string]any{"eq": "Role"}, "action": map[string]any{"in": []string{"CREATED", "DELETED"}}},
			"sort":   map[string]any{"id": "ASC"}, "take": 1,
		}}), "auditEntries")
		require.Equal(t, 2, roleLog.TotalItems)
		require.Len(t, roleLog.Items, 1)
		require.Equal(t, "CREATED", roleLog.Items[0].Action)
		r = admin.Do(auditQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"action": map[string]any{"eq": "EXPLODED"}}}})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)

		// On the new channel, an administrator with ReadAdministrator there
		// reads that channel's entries only.
		r = admin.Do(specCreateRole, roleInput(map[string]any{
			"code": "channel-auditor", "description": "reads", "channelIds": []string{channelID},
			"permissions": []string{"ReadAdministrator"},
		}))
		reader := e.admin(testenv.Bearer)
		e.newAdministrator(t, "channel-reader@example.com", mustID(t, dataField[roleView](t, r, "createRole").ID))
		asUserWithCredentials(t, reader, "channel-reader@example.com", "test")
		scoped := dataField[auditList](t, reader.Do(auditQuery, nil), "auditEntries")
		var channels []string
		for _, it := range scoped.Items {
			channels = append(channels, *it.ChannelID)
		}
		require.Equal(t, []string{channelID}, channels)

		// Without ReadAdministrator: FORBIDDEN, for a customer and a guest.
		requireGraphQLError(t, e.admin(testenv.Bearer).Do(auditQuery, nil), "FORBIDDEN", "You are not currently authorized to perform this action")
		require.Equal(t, "CurrentUser", decodeLogin(t, shopper.Do(loginMutation, creds("audited-shopper@example.com", "test"))).Login.Typename)
		customer := e.admin(testenv.Bearer)
		customer.Token = shopper.Token
		r = customer.Do(auditQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
	})
}

// newCustomer creates a verified customer with password "test" on the
// default channel.
func (e *env) newCustomer(t *testing.T, email, lastName string) {
	t.Helper()
	_, err := e.app.Users.CreateCustomer(t.Context(), access.NewCustomer{
		EmailAddress: email, Password: "test", FirstName: "Audited", LastName: lastName, Verified: true,
		ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
	})
	require.NoError(t, err)
}
