// The GraphQL operations of the ticket's history (typed by codegen).
import { graphql } from '../gql';

// The ticket as of a point, with the fields of TicketDetail but no `id` and
// no `comments` (thousands on a long ticket; see TicketAsOfCommentsQuery):
// graphcache keys tickets by id, and a past state must not overwrite the
// live ticket in the cache (without an id it is kept under ticketAsOf).
export const TicketStateFields = graphql(`
  fragment TicketState on Ticket {
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

export const TicketAsOfQuery = graphql(`
  query TicketAsOf($id: ID!, $version: Int, $at: DateTime) {
    ticketAsOf(id: $id, version: $version, at: $at) {
      ...TicketState
    }
  }
`);

/**
 * The newest comments of the ticket as of a point (as TicketDetail has
 * them now). Comments only grow (schema, FieldChange), so a past version's
 * are the first `commentCount` of the live ticket's: this is asked only
 * when the live ticket's loaded comments do not hold them.
 */
export const TicketAsOfCommentsQuery = graphql(`
  query TicketAsOfComments($id: ID!, $version: Int, $at: DateTime) {
    ticketAsOf(id: $id, version: $version, at: $at) {
      version
      comments(first: 500, newest: true) {
        id
        author
        body
        at
      }
    }
  }
`);

export const TicketHistoryPageQuery = graphql(`
  query TicketHistoryPage($id: ID!, $first: Int!, $after: String, $reverse: Boolean!) {
    ticketHistory(id: $id, first: $first, after: $after, reverse: $reverse) {
      position
      sequence
      cursor
      type
      recordedAt
      occurredAt
      actor
      actorKind
      channel
      requestId
      summary
      payload
      changes {
        field
        before
        after
      }
    }
  }
`);

/** The one event that made version `after - 1` (cursor = sequence; reverse: older than `after`). */
export const EventOfVersionQuery = graphql(`
  query EventOfVersion($id: ID!, $after: String) {
    ticketHistory(id: $id, first: 1, after: $after, reverse: true) {
      position
      sequence
      actor
    }
  }
`);
