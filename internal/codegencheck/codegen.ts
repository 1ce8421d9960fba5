// GraphQL Code Generator config, as a storefront would write it (Vendure's
// storefront codegen guide), with the `typescript` plugin only: check.sh
// checks the types it generates for the Shop and Admin schemas.
//
// SCHEMA is the schema to read: check.sh sets it to the introspection result
// that `go run ./internal/codegencheck -api shop|admin` prints; unset, it is
// a running server's Shop API, as in a storefront.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  overwrite: true,
  schema: process.env.SCHEMA ?? 'http://localhost:3000/shop-api',
  generates: {
    [process.env.OUT ?? 'out/shop-types.ts']: {
      plugins: ['typescript'],
      config: {
        // Every custom scalar is mapped, so none comes out as `unknown`
        // (check.sh fails if one does): IDs are strings on the wire,
        // DateTime an ISO 8601 string, Money a whole number of minor units
        // (at most 2^53-1, so a JavaScript number holds it exactly), and
        // JSON any JSON value (a job's error is a string, its data and
        // result objects, a payment's metadata an object).
        scalars: {
          ID: { input: 'string', output: 'string' },
          DateTime: { input: 'string', output: 'string' },
          Money: { input: 'number', output: 'number' },
          JSON: {
            input: 'string | number | boolean | null | { [key: string]: unknown } | unknown[]',
            output: 'string | number | boolean | null | { [key: string]: unknown } | unknown[]',
          },
        },
        // Enum members keep Vendure's names (en, zh_Hans, USD).
        namingConvention: { enumValues: 'keep' },
      },
    },
  },
};

export default config;
