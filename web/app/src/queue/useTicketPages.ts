// The queue's rows, a cursor page (50 tickets) at a time. Each page is its
// own cached query, so the normalized cache keeps every loaded row current
// (live events patch them; new tickets join the first page).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient } from 'urql';
import type { QueuePageQuery as QueuePageData, QueueRowFragment, TicketFilter, TicketOrder } from '../gql/graphql';
import { QueuePageQuery } from '../graphql/documents';

// 50 rows × the row's fields stays well under the server's query complexity limit (3,000).
export const PAGE_SIZE = 50;

// The cursors of the pages loaded per view, so that coming back to a view
// (from a ticket) loads the same pages again, from the cache at once.
const loadedCursors = new Map<string, (string | null)[]>();

interface PageState {
  data: QueuePageData | null;
  fetching: boolean;
  error: string | null;
}

export interface TicketPages {
  rows: QueueRowFragment[];
  totalCount: number | null;
  hasMore: boolean;
  fetching: boolean;
  error: string | null;
  loadMore: () => void;
  reload: () => void;
}

export function useTicketPages(filter: TicketFilter, orderBy: TicketOrder): TicketPages {
  const client = useClient();
  const key = JSON.stringify([filter, orderBy]);
  const [pages, setPages] = useState<PageState[]>([]);
  const [generation, setGeneration] = useState(0);
  const subs = useRef<{ unsubscribe: () => void }[]>([]);
  const pagesRef = useRef<PageState[]>([]);

  const load = useCallback(
    (index: number, after: string | null) => {
      const vars = JSON.parse(key) as [TicketFilter, TicketOrder];
      const update = (p: PageState) => {
        const next = [...pagesRef.current];
        next[index] = p;
        pagesRef.current = next;
        setPages(next);
      };
      update({ data: pagesRef.current[index]?.data ?? null, fetching: true, error: null });
      const sub = client
        .query(
          QueuePageQuery,
          { first: PAGE_SIZE, after, filter: vars[0], orderBy: vars[1] },
          { requestPolicy: index === 0 ? 'cache-and-network' : 'cache-first' },
        )
        .subscribe((r) => {
          update({
            data: r.data ?? pagesRef.current[index]?.data ?? null,
            fetching: r.stale || (!r.data && !r.error),
            error: r.error ? r.error.message : null,
          });
        });
      subs.current[index] = sub;
      const cursors = loadedCursors.get(key) ?? [];
      cursors[index] = after;
      loadedCursors.set(key, cursors);
    },
    [client, key],
  );

  useEffect(() => {
    pagesRef.current = [];
    const cursors = loadedCursors.get(key) ?? [null];
    cursors.forEach((after, i) => load(i, i === 0 ? null : after));
    const current = subs.current;
    return () => {
      for (const s of current) s?.unsubscribe();
      subs.current = [];
    };
  }, [load, generation, key]);

  const last = pages[pages.length - 1];
  const hasMore = Boolean(last?.data?.tickets.pageInfo.hasNextPage);
  const fetching = pages.some((p) => p?.fetching);

  const loadMore = useCallback(() => {
    const ps = pagesRef.current;
    const l = ps[ps.length - 1];
    if (!l || l.fetching || !l.data?.tickets.pageInfo.hasNextPage) return;
    load(ps.length, l.data.tickets.pageInfo.endCursor ?? null);
  }, [load]);

  const rows = useMemo(() => {
    const seen = new Set<string>();
    const out: QueueRowFragment[] = [];
    for (const p of pages) {
      for (const n of p?.data?.tickets.nodes ?? []) {
        if (seen.has(n.id)) continue;
        seen.add(n.id);
        out.push(n);
      }
    }
    return out;
  }, [pages]);
  return {
    rows,
    totalCount: pages[0]?.data?.tickets.totalCount ?? null,
    hasMore,
    fetching,
    error: pages.find((p) => p?.error)?.error ?? null,
    loadMore,
    reload: () => {
      loadedCursors.delete(key);
      setGeneration((g) => g + 1);
    },
  };
}
