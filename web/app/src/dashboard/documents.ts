import { graphql } from '../gql';

// One query for the whole screen: every figure of one period, from one
// read-model state (`minPosition`: at least the last ticket event seen).
export const DashboardQuery = graphql(`
  query Dashboard($days: Int!, $hours: Int!, $minPosition: String) {
    stats(minPosition: $minPosition) {
      openTickets
      openByStatusSeverity {
        status
        severity
        count
      }
      daily(days: $days) {
        day
        opened
        resolved
        acknowledged
        meanTimeToAcknowledgeSeconds
        meanTimeToResolveSeconds
      }
      trend(days: $days) {
        current {
          from
          to
          opened
          resolved
          mtta
          mttr
        }
        previous {
          from
          to
          opened
          resolved
          mtta
          mttr
        }
      }
      topRules(first: 10, days: $days) {
        ruleName
        tickets
        alerts
      }
      topAssets(first: 10, days: $days) {
        destinationIp
        hostname
        tickets
        alerts
      }
      alerts(hours: $hours) {
        start
        count
      }
      deadLetters(hours: $hours) {
        start
        count
      }
    }
  }
`);
