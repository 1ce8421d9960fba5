package gqlutil

import (
	"maps"

	"github.com/vektah/gqlparser/v2/ast"
)

// unserved are the directives gqlparser's prelude declares that this server
// does not serve. @defer asks for incremental delivery, which needs a
// multipart or event-stream response; the GET and POST transports answer
// with one JSON document (gqlutil.GET, gqlutil.POST), so a deferred fragment
// would either come inline or not at all, never as the client asked.
var unserved = []string{"defer"}

// ServedSchema returns a copy of a generated schema without the unserved
// directives, for Config.Schema: introspection and any SDL printed from the
// served schema do not advertise them, and a document that uses one fails
// validation ("Unknown directive"), as it does on Vendure (graphql-js 16
// has no @defer). The copy shares everything else with schema.
func ServedSchema(schema *ast.Schema) *ast.Schema {
	served := *schema
	served.Directives = maps.Clone(schema.Directives)
	for _, name := range unserved {
		delete(served.Directives, name)
	}
	return &served
}
