// Every GraphQL operation of the SPA, typed by codegen (client preset) from
// web/schema.graphql into gql/.
import { graphql } from '../gql';

export const QueueRowFields = graphql(`
  fragment QueueRow on Ticket {
    id
    number
    title
    description
    status
    severity
    source
    sourceIp
    destinationIp
    assignee
    assigneeName
    tags
    observables {
      kind
      value
    }
    alertCount
    createdAt
    updatedAt
    version
  }
`);

export const QueuePageQuery = graphql(`
  query QueuePage($first: Int!, $after: String, $filter: TicketFilter, $orderBy: TicketOrder) {
    tickets(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...QueueRow
      }
    }
  }
`);

export const UnassignedNewCountsQuery = graphql(`
  query UnassignedNewCounts {
    critical: tickets(first: 1, filter: { status: [NEW], unassigned: true, severity: [CRITICAL] }) {
      totalCount
    }
    high: tickets(first: 1, filter: { status: [NEW], unassigned: true, severity: [HIGH] }) {
      totalCount
    }
    medium: tickets(first: 1, filter: { status: [NEW], unassigned: true, severity: [MEDIUM] }) {
      totalCount
    }
    low: tickets(first: 1, filter: { status: [NEW], unassigned: true, severity: [LOW] }) {
      totalCount
    }
  }
`);

export const TicketEventsSubscription = graphql(`
  subscription TicketEvents($afterPosition: String) {
    ticketEvents(afterPosition: $afterPosition) {
      position
      sequence
      ticketId
      type
      actor
      recordedAt
      summary
      ticket {
        ...QueueRow
      }
    }
  }
`);

export const TicketDetailFields = graphql(`
  fragment TicketDetail on Ticket {
    ...QueueRow
    resolution
    resolutionSummary
    ruleName
    vendor
    fingerprint
    commentCount
    firstSeen
    lastSeen
    acknowledgedAt
    resolvedAt
    duplicateOf
    position
    asset {
      hostname
      owner
      criticality
    }
    # The newest 500 (a long ticket's older comments are in its history).
    comments(first: 500, newest: true) {
      id
      author
      body
      at
    }
    alerts {
      sequence
      recordedAt
      count
      firstSeen
      lastSeen
      kind
    }
  }
`);

export const TicketByNumberQuery = graphql(`
  query TicketByNumber($number: String!) {
    ticket(number: $number) {
      ...TicketDetail
    }
  }
`);

export const TicketByIdQuery = graphql(`
  query TicketById($id: ID!) {
    ticket(id: $id) {
      ...TicketDetail
    }
  }
`);

export const TicketUpdatedSubscription = graphql(`
  subscription TicketUpdated($id: ID!, $afterVersion: Int) {
    ticketUpdated(id: $id, afterVersion: $afterVersion) {
      ...TicketDetail
    }
  }
`);

export const AlertSamplesQuery = graphql(`
  query AlertSamples($id: ID!) {
    ticket(id: $id) {
      id
      alerts {
        sequence
        samples
      }
    }
  }
`);

export const AssetForQuery = graphql(`
  query AssetFor($ip: String!) {
    assetFor(ip: $ip) {
      id
      network
      hostname
      owner
      businessUnit
      criticality
    }
  }
`);

export const AssignableUsersQuery = graphql(`
  query AssignableUsers {
    users(assignable: true) {
      username
      displayName
      role
    }
  }
`);

export const LastActorQuery = graphql(`
  query LastActor($id: ID!) {
    ticketHistory(id: $id, first: 1, reverse: true) {
      position
      sequence
      actor
    }
  }
`);

// Read before the pages' queries and the live feed start, so that the feed
// resumes after what those queries show (graphql/LiveFeed.tsx).
export const LivePositionQuery = graphql(`
  query LivePosition {
    livePosition
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      name
      displayName
      roles
    }
  }
`);

export const TicketRowQuery = graphql(`
  query TicketRow($id: ID!) {
    ticket(id: $id) {
      ...QueueRow
    }
  }
`);
