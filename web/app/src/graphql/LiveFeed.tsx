// The app-wide ticketEvents subscription: every event patches the cache
// (graphql/cache.ts). It starts after `start`, the read model's position
// read before any page queried (Shell): an event the pages' first answers
// miss is delivered, however late the server registers the subscription.
// Pausing unsubscribes; resuming subscribes again after the last position
// delivered, so nothing is missed.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useClient, useSubscription } from 'urql';
import { LivePositionQuery, TicketEventsSubscription } from './documents';
import { emitLiveEvent } from './client';

const listeners = new Set<() => void>();
let paused = false;
export const livePause = {
  get: () => paused,
  set(p: boolean) {
    paused = p;
    for (const l of listeners) l();
  },
  subscribe(fn: () => void) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};
export function useLivePaused(): boolean {
  return useSyncExternalStore(livePause.subscribe, livePause.get);
}

/**
 * Where the live feed starts: the read model's position, read once before
 * the pages query anything. `null` until it is known; its `position` is
 * `null` when it could not be read (the feed then starts from now).
 */
export function useLiveStart(): { position: string | null } | null {
  const client = useClient();
  const [start, setStart] = useState<{ position: string | null } | null>(null);
  useEffect(() => {
    let mounted = true;
    void client
      .query(LivePositionQuery, {}, { requestPolicy: 'network-only' })
      .toPromise()
      .then((r) => {
        if (mounted) setStart({ position: r.data?.livePosition ?? null });
      });
    return () => {
      mounted = false;
    };
  }, [client]);
  return start;
}

export function LiveFeed({ start }: { start: string | null }) {
  const isPaused = useLivePaused();
  const last = useRef<string | null>(start);
  // The position to start from, fixed per (re)subscription.
  const [from, setFrom] = useState<string | null>(start);
  useEffect(() => {
    if (isPaused) setFrom(last.current);
  }, [isPaused]);
  useSubscription(
    { query: TicketEventsSubscription, variables: { afterPosition: from }, pause: isPaused },
    (_prev, data) => {
      const e = data.ticketEvents;
      last.current = e.position;
      emitLiveEvent({ position: e.position, type: e.type, ticketId: e.ticketId, actor: e.actor });
      return data;
    },
  );
  return null;
}
