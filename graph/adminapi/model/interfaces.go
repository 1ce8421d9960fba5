package model

// Node and PaginatedList are Vendure's interfaces. Their members are
// package jobs' types, which cannot carry gqlgen's marker methods, so the
// Go interfaces are empty: the generated code picks the GraphQL type from
// the value's concrete type.
type (
	Node          interface{}
	PaginatedList interface{}
)
