// GraphiQL for Ticketera SOC, served by the server itself at /graphql: every
// script, style, font and worker comes from this origin (no CDN).
import './workers';
import 'graphiql/style.css';
import './page.css';

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

// Queries and mutations: POST /graphql. Subscriptions: graphql-transport-ws on
// /graphql/ws; the toolkit passes the header editor's headers as the
// `connection_init` payload, which is where the server reads the token.
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${wsScheme}//${window.location.host}/graphql/ws`,
});

// Paste an access token after "Bearer " (POST /api/v1/auth/token).
const headers = JSON.stringify({ Authorization: 'Bearer ' }, null, 2);

const defaultQuery = `# Ticketera SOC: GraphQL queries and subscriptions.
#
# Put an access token after "Bearer " in the Headers tab below
# (POST /api/v1/auth/token, grant_type=password), then run:

query RecentTickets {
  tickets(first: 10) {
    edges {
      node {
        number
        title
        status
        severity
        updatedAt
      }
    }
  }
}
`;

const root = document.getElementById('graphiql');
if (!root) throw new Error('#graphiql is missing from the page');

createRoot(root).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={defaultQuery}
      initialHeaders={headers}
      defaultHeaders={headers}
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
    />
  </StrictMode>,
);
