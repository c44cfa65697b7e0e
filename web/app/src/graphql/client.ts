// urql with the normalized cache, HTTP for queries (Bearer from the session)
// and graphql-ws for subscriptions on /graphql/ws. The socket authenticates
// in connection_init; when the session gets a new access token the socket is
// restarted, and every subscription is sent again from where it was:
// ticketEvents after the last position it delivered, ticketUpdated after the
// last version (graphql-ws resends the same payload object, which we keep up
// to date), so a reconnect leaves no gap.
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { session } from '../auth/session';
import { cacheConfig } from './cache';

export type LiveState = 'connecting' | 'live' | 'reconnecting';
const liveListeners = new Set<(s: LiveState) => void>();
let liveState: LiveState = 'connecting';
function setLive(s: LiveState) {
  liveState = s;
  for (const l of liveListeners) l(s);
}
export function onLiveState(fn: (s: LiveState) => void): () => void {
  liveListeners.add(fn);
  fn(liveState);
  return () => liveListeners.delete(fn);
}

/** Every ticket event the app receives (after the cache has applied it). */
export interface LiveEvent {
  position: string;
  type: string;
  ticketId: string;
  actor: string;
}
const eventListeners = new Set<(e: LiveEvent) => void>();
export function onLiveEvent(fn: (e: LiveEvent) => void): () => void {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}
export function emitLiveEvent(e: LiveEvent): void {
  for (const l of eventListeners) l(e);
}

/** Advances a subscription's own variables so that a resend resumes after what was delivered. */
export function advanceVariables(variables: Record<string, unknown>, data: unknown): void {
  const d = data as {
    ticketEvents?: { position?: string };
    ticketUpdated?: { version?: number };
  } | null;
  if (d?.ticketEvents?.position) variables.afterPosition = d.ticketEvents.position;
  if (typeof d?.ticketUpdated?.version === 'number') variables.afterVersion = d.ticketUpdated.version;
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}/graphql/ws`;
}

let activeSocket: WebSocket | null = null;

export const ws: WsClient = createWsClient({
  url: wsUrl,
  lazy: true,
  lazyCloseTimeout: 3000,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  connectionParams: () => {
    const token = session.token();
    return token ? { Authorization: `Bearer ${token}` } : {};
  },
  on: {
    connecting: () => setLive(liveState === 'live' ? 'reconnecting' : liveState),
    connected: (socket) => {
      activeSocket = socket as WebSocket;
      setLive('live');
    },
    closed: () => {
      activeSocket = null;
      if (liveState === 'live') setLive('reconnecting');
    },
  },
});

// A new access token: reconnect with it (4205 is not fatal: graphql-ws retries).
session.onToken((token) => {
  if (activeSocket && activeSocket.readyState === WebSocket.OPEN) activeSocket.close(4205, 'Client Restart');
  if (!token) ws.terminate();
});

export const client = new Client({
  url: '/graphql',
  preferGetMethod: false,
  requestPolicy: 'cache-first',
  fetch: (input, init) => session.authFetch(input as RequestInfo, init),
  exchanges: [
    cacheExchange(cacheConfig),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const payload = {
          query: request.query ?? '',
          variables: { ...(request.variables ?? {}) } as Record<string, unknown>,
          operationName: request.operationName,
          extensions: request.extensions,
        };
        return {
          subscribe(sink) {
            const unsubscribe = ws.subscribe(payload, {
              next(result) {
                advanceVariables(payload.variables, result.data);
                sink.next(result as never);
              },
              error: (e) => sink.error(e),
              complete: () => sink.complete(),
            });
            return { unsubscribe };
          },
        };
      },
    }),
  ],
});
