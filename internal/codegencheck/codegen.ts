// GraphQL Code Generator config, as a storefront would write it (Vendure's
// storefront codegen guide), with the `typescript` plugin only: check.sh
// checks the types it generates for the Shop schema.
//
// SCHEMA is the schema to read: check.sh sets it to the introspection result
// that `go run ./internal/codegencheck` prints; unset, it is a running
// server's Shop API, as in a storefront.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  overwrite: true,
  schema: process.env.SCHEMA ?? 'http://localhost:3000/shop-api',
  generates: {
    [process.env.OUT ?? 'out/shop-types.ts']: {
      plugins: ['typescript'],
      config: {
        // DateTime is an ISO 8601 string on the wire.
        scalars: { DateTime: { input: 'string', output: 'string' } },
        // Enum members keep Vendure's names (en, zh_Hans, USD).
        namingConvention: { enumValues: 'keep' },
      },
    },
  },
};

export default config;
