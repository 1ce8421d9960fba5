package main

// gqlgen is pinned by the tool line in go.mod. Both APIs are generated from
// schema/common plus their own folder; generated code is committed. permlist
// then makes [Permission!]! marshal as one list (see its package doc), and
// compatdoc writes the field-by-field comparison with Vendure's types from
// the schemas just generated.
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go tool gqlgen generate --config gqlgen.admin.yml
//go:generate go run ./internal/cmd/permlist graph/shopapi graph/adminapi
//go:generate go run ./internal/cmd/compatdoc -o docs/vendure-compatibility.md
