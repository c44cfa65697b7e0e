import type { CodegenConfig } from '@graphql-codegen/cli';

// GraphQL operations in app/src are typed from the server's SDL
// (web/schema.graphql, committed; a server test keeps it equal to what
// `ticketera schema graphql` prints).
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['app/src/**/*.{ts,tsx}', '!app/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'app/src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', NaiveDate: 'string', JSON: 'unknown' },
      },
    },
  },
};
export default config;
