package auth

// APIType names the API a request arrived on.
type APIType string

// The two GraphQL APIs.
const (
	ShopAPI  APIType = "shop"
	AdminAPI APIType = "admin"
)
