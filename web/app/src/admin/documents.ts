// The admin consoles' GraphQL operations (typed by codegen into gql/).
import { graphql } from '../gql';

export const AdminAssetsQuery = graphql(`
  query AdminAssets($first: Int!, $after: String, $search: String) {
    assets(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        network
        hostname
        owner
        businessUnit
        criticality
        createdAt
        updatedAt
      }
    }
  }
`);
