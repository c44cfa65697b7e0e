// The app-wide ticketEvents subscription: every event patches the cache
// (graphql/cache.ts). Pausing unsubscribes; resuming subscribes again after
// the last position delivered, so nothing is missed.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useSubscription } from 'urql';
import { TicketEventsSubscription } from './documents';
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

export function LiveFeed() {
  const isPaused = useLivePaused();
  const last = useRef<string | null>(null);
  // The position to start from, fixed per (re)subscription.
  const [from, setFrom] = useState<string | null>(null);
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
