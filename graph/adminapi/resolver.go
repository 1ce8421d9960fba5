package adminapi

import "github.com/shopsession/sessionserver/service"

// Resolver holds the services the resolvers call. Resolvers map GraphQL to
// service calls and back; rules live in package service.
type Resolver struct {
	Auth  *service.AuthService
	Users *service.UserService
}
