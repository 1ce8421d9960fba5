package e2e_test

// The documents of channel and role administration: those Vendure's Admin
// UI sends from its role and channel pages (packages/admin-ui
// administrator-definitions.ts, settings-definitions.ts, the detail
// components), and those of Vendure's own channel.e2e-spec and role.e2e-spec
// (graphql/fragments.ts, shared-definitions.ts), unchanged.
const (
	uiErrorResultFragment = `fragment ErrorResult on ErrorResult { errorCode message }`

	uiRoleFragment = `fragment Role on Role {
  id
  createdAt
  updatedAt
  code
  description
  permissions
  channels { id code token }
}`

	uiGetRoleDetail = `query GetRoleDetail($id: ID!) {
  role(id: $id) { ...Role }
}
` + uiRoleFragment

	uiCreateRole = `mutation CreateRole($input: CreateRoleInput!) {
  createRole(input: $input) { ...Role }
}
` + uiRoleFragment

	uiUpdateRole = `mutation UpdateRole($input: UpdateRoleInput!) {
  updateRole(input: $input) { ...Role }
}
` + uiRoleFragment

	uiDeleteRole = `mutation DeleteRole($id: ID!) {
  deleteRole(id: $id) { result message }
}`

	uiChannelFragment = `fragment Channel on Channel {
  id
  createdAt
  updatedAt
  code
  token
  pricesIncludeTax
  availableCurrencyCodes
  availableLanguageCodes
  defaultCurrencyCode
  defaultLanguageCode
  defaultShippingZone { id name }
  defaultTaxZone { id name }
  seller { id name }
}`

	uiGetActiveChannel = `query GetActiveChannel {
  activeChannel { ...Channel }
}
` + uiChannelFragment

	uiGetChannelDetail = `query GetChannelDetail($id: ID!) {
  channel(id: $id) { ...Channel }
}
` + uiChannelFragment

	uiCreateChannel = `mutation CreateChannel($input: CreateChannelInput!) {
  createChannel(input: $input) {
    ...Channel
    ...ErrorResult
  }
}
` + uiChannelFragment + "\n" + uiErrorResultFragment

	uiUpdateChannel = `mutation UpdateChannel($input: UpdateChannelInput!) {
  updateChannel(input: $input) {
    ...Channel
    ...ErrorResult
  }
}
` + uiChannelFragment + "\n" + uiErrorResultFragment

	uiDeleteChannel = `mutation DeleteChannel($id: ID!) {
  deleteChannel(id: $id) { result message }
}`

	// Vendure's e2e documents.

	specRoleFragment = `fragment Role on Role {
  id
  code
  description
  permissions
  channels { id code token }
}`

	specCreateRole = `mutation CreateRole($input: CreateRoleInput!) {
  createRole(input: $input) { ...Role }
}
` + specRoleFragment

	specUpdateRole = `mutation UpdateRole($input: UpdateRoleInput!) {
  updateRole(input: $input) { ...Role }
}
` + specRoleFragment

	specGetRole = `query GetRole($id: ID!) {
  role(id: $id) { ...Role }
}
` + specRoleFragment

	specDeleteRole = `mutation DeleteRole($id: ID!) {
  deleteRole(id: $id) { result message }
}`

	specChannelFragment = `fragment Channel on Channel {
  id
  code
  token
  currencyCode
  availableCurrencyCodes
  defaultCurrencyCode
  defaultLanguageCode
  defaultShippingZone { id }
  defaultTaxZone { id }
  pricesIncludeTax
}`

	specCreateChannel = `mutation CreateChannel($input: CreateChannelInput!) {
  createChannel(input: $input) {
    ...Channel
    ... on LanguageNotAvailableError { errorCode message languageCode }
  }
}
` + specChannelFragment

	specUpdateChannel = `mutation UpdateChannel($input: UpdateChannelInput!) {
  updateChannel(input: $input) {
    ...Channel
    ... on LanguageNotAvailableError { errorCode message languageCode }
  }
}
` + specChannelFragment

	specDeleteChannel = `mutation DeleteChannel($id: ID!) {
  deleteChannel(id: $id) { message result }
}`

	specGetChannel = `query GetChannel($id: ID!) {
  channel(id: $id) {
    id
    code
    token
    defaultCurrencyCode
    availableCurrencyCodes
    defaultLanguageCode
    availableLanguageCodes
    outOfStockThreshold
    pricesIncludeTax
  }
}`
)
