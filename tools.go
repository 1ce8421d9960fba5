package main

// gqlgen is pinned by the tool line in go.mod. Both APIs are generated from
// schema/common plus their own folder; generated code is committed. seqlists
// then makes enum-list marshaling sequential (see its package doc).
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go tool gqlgen generate --config gqlgen.admin.yml
//go:generate go run ./internal/cmd/seqlists graph/shopapi graph/adminapi
