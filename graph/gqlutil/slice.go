package gqlutil

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalSliceSequentially has the signature of
// graphql.MarshalSliceConcurrently but marshals the elements in order on the
// calling goroutine. internal/cmd/seqlists puts it in place of the
// concurrent version for enum lists, whose elements resolve nothing.
// workerLimit is ignored; a panic in one element nulls that element, as in
// the concurrent version, unless omitPanicHandler. One FieldContext serves
// every element (its Index moves along): an enum element keeps no reference
// to its context once marshaled.
func MarshalSliceSequentially(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	index := 0
	fc := &graphql.FieldContext{Index: &index}
	childCtx := graphql.WithFieldContext(ctx, fc)
	for i := range length {
		index = i
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
