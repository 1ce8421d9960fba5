package e2e_test

// The GraphQL documents a storefront or admin UI sends.
const (
	loginMutation = `mutation Login($username: String!, $password: String!, $rememberMe: Boolean) {
  login(username: $username, password: $password, rememberMe: $rememberMe) {
    __typename
    ... on CurrentUser { id identifier channels { id code token permissions } }
    ... on ErrorResult { errorCode message }
    ... on InvalidCredentialsError { authenticationError }
  }
}`
	authenticateMutation = `mutation Authenticate($input: AuthenticationInput!, $rememberMe: Boolean) {
  authenticate(input: $input, rememberMe: $rememberMe) {
    __typename
    ... on CurrentUser { id identifier }
    ... on ErrorResult { errorCode message }
  }
}`
	logoutMutation = `mutation { logout { success } }`
	meQuery        = `query Me { me { id identifier channels { id code token permissions } } }`
	activeChannel  = `query { activeChannel { id code token defaultLanguageCode defaultCurrencyCode currencyCode availableCurrencyCodes pricesIncludeTax } }`
)

// loginResult is the data of loginMutation.
type loginResult struct {
	Login struct {
		Typename            string `json:"__typename"`
		ID                  string `json:"id"`
		Identifier          string `json:"identifier"`
		ErrorCode           string `json:"errorCode"`
		Message             string `json:"message"`
		AuthenticationError string `json:"authenticationError"`
		Channels            []struct {
			ID          string   `json:"id"`
			Code        string   `json:"code"`
			Token       string   `json:"token"`
			Permissions []string `json:"permissions"`
		} `json:"channels"`
	} `json:"login"`
}

// meResult is the data of meQuery.
type meResult struct {
	Me *struct {
		ID         string `json:"id"`
		Identifier string `json:"identifier"`
		Channels   []struct {
			ID          string   `json:"id"`
			Code        string   `json:"code"`
			Token       string   `json:"token"`
			Permissions []string `json:"permissions"`
		} `json:"channels"`
	} `json:"me"`
}

func creds(username, password string) map[string]any {
	return map[string]any{"username": username, "password": password}
}
