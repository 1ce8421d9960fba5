package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// The account and session documents of public Vendure storefronts (the
// Remix, Qwik and Next.js starters' shapes: result unions spread on their
// members and on ErrorResult, Customer.user, Channel.defaultShippingZone)
// must validate and run unchanged. Each is sent as a storefront sends it,
// with variables; none may fail validation, and each answers with data.
func TestStorefrontAccountDocumentsRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	shop := e.shop(testenv.Bearer)

	for _, c := range []struct {
		name, doc string
		vars      map[string]any
		want      string // a __typename the answer holds
	}{
		{"rootLayoutChannel", `query activeChannel { activeChannel { id token code currencyCode defaultCurrencyCode defaultLanguageCode defaultShippingZone { id name } defaultTaxZone { id } } }`, nil, `"defaultShippingZone"`},
		{"register", `mutation registerCustomerAccount($input: RegisterCustomerInput!) {
  registerCustomerAccount(input: $input) {
    __typename
    ... on Success { success }
    ... on MissingPasswordError { errorCode message }
    ... on PasswordValidationError { errorCode message validationErrorMessage }
    ... on NativeAuthStrategyError { errorCode message }
  }
}`, map[string]any{"input": map[string]any{"emailAddress": "doc@example.com", "title": "Dr", "firstName": "Doc", "lastName": "User", "phoneNumber": "+1 555", "password": "doc-secret"}}, `"Success"`},
		{"verify", `mutation verifyCustomerAccount($token: String!, $password: String) {
  verifyCustomerAccount(token: $token, password: $password) {
    __typename
    ... on CurrentUser { id identifier }
    ... on ErrorResult { errorCode message }
  }
}`, map[string]any{"token": "not-a-token"}, `"VerificationTokenInvalidError"`},
		{"refreshVerification", `mutation refreshCustomerVerification($emailAddress: String!) {
  refreshCustomerVerification(emailAddress: $emailAddress) { __typename ... on Success { success } ... on ErrorResult { errorCode message } }
}`, map[string]any{"emailAddress": "doc@example.com"}, `"Success"`},
		{"requestPasswordReset", `mutation requestPasswordReset($emailAddress: String!) {
  requestPasswordReset(emailAddress: $emailAddress) { __typename ... on Success { success } ... on ErrorResult { errorCode message } }
}`, map[string]any{"emailAddress": "nobody@example.com"}, `"Success"`},
		{"resetPassword", `mutation resetPassword($token: String!, $password: String!) {
  resetPassword(token: $token, password: $password) {
    __typename
    ... on CurrentUser { id identifier }
    ... on PasswordResetTokenInvalidError { errorCode message }
    ... on PasswordResetTokenExpiredError { errorCode message }
    ... on NotVerifiedError { errorCode message }
    ... on ErrorResult { errorCode message }
  }
}`, map[string]any{"token": "not-a-token", "password": "doc-secret-2"}, `"PasswordResetTokenInvalidError"`},
		{"updatePasswordAnonymous", `mutation updateCustomerPassword($currentPassword: String!, $newPassword: String!) {
  updateCustomerPassword(currentPassword: $currentPassword, newPassword: $newPassword) { __typename ... on Success { success } ... on ErrorResult { errorCode message } }
}`, map[string]any{"currentPassword": "a", "newPassword": "bbbb"}, ""},
		{"activeCustomer", `query activeCustomer { activeCustomer { id title firstName lastName emailAddress phoneNumber user { id identifier verified lastLogin } } }`, nil, `"activeCustomer"`},
	} {
		r := shop.Do(c.doc, c.vars)
		for _, err := range r.Errors {
			require.NotEqual(t, "GRAPHQL_VALIDATION_FAILED", err.Code(), "%s: %s", c.name, err.Message)
			require.NotEqual(t, "GRAPHQL_PARSE_FAILED", err.Code(), "%s: %s", c.name, err.Message)
		}
		if c.want != "" {
			require.Empty(t, r.Errors, c.name)
			require.Contains(t, string(r.Data), c.want, c.name)
		} else {
			require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%s: an anonymous caller may not change a password", c.name)
		}
	}
}
