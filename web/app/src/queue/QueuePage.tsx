import { useNavigate } from '@tanstack/react-router';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { anyPermits } from '../auth/permissions';
import { useUser } from '../auth/useSession';
import type { QueueRowFragment } from '../gql/graphql';
import { livePause, useLivePaused } from '../graphql/LiveFeed';
import { ticketsRoute } from '../router';
import { dialogOpen, isTyping, onCommand } from '../shell/commands';
import { failureText, run } from '../ticket/commands';
import { toast } from '../ui/toast';
import { BulkBar } from './BulkBar';
import { Counts } from './Counts';
import { FilterBar } from './FilterBar';
import { NewTicketDialog } from './NewTicketDialog';
import { QueueGrid } from './QueueGrid';
import { SavedViews } from './SavedViews';
import { DEFAULT_COLUMNS, DEFAULT_SORT, toOrder, toTicketFilter, type QueueSearch } from './search';
import { useTicketPages } from './useTicketPages';

// Your place per view (scroll, active row, selection), kept while you open
// tickets and come back.
interface Place {
  scrollTop: number;
  activeId: string | null;
  selected: Set<string>;
}
const places = new Map<string, Place>();

export function QueuePage() {
  const { t } = useTranslation();
  const search = ticketsRoute.useSearch();
  const navigate = useNavigate({ from: '/tickets' });
  const user = useUser();
  const paused = useLivePaused();
  const filter = useMemo(() => toTicketFilter(search, user.name), [search, user.name]);
  const orderBy = useMemo(() => toOrder(search.sort), [search.sort]);
  const pages = useTicketPages(filter, orderBy);
  const viewKey = JSON.stringify([filter, orderBy]);
  const [place] = useState(() => places.get(viewKey) ?? { scrollTop: 0, activeId: null, selected: new Set<string>() });
  const [selected, setSelected] = useState<Set<string>>(place.selected);
  const [activeId, setActiveId] = useState<string | null>(place.activeId);
  const [newOpen, setNewOpen] = useState(false);
  const scrollTop = useRef(place.scrollTop);
  useEffect(() => {
    places.set(viewKey, { scrollTop: scrollTop.current, activeId, selected });
  }, [viewKey, activeId, selected]);
  // Focus the active row when coming back to the queue.
  useEffect(() => {
    if (!place.activeId) return;
    const id = place.activeId;
    const h = setTimeout(() => document.querySelector<HTMLElement>(`[data-row-id="${id}"]`)?.focus(), 50);
    return () => clearTimeout(h);
  }, [place.activeId]);
  const canOpen = anyPermits(user.roles, 'OpenTicket');
  const canAssign = anyPermits(user.roles, 'AssignTicket');

  const set = useCallback(
    (patch: Partial<QueueSearch>) => void navigate({ search: (prev: QueueSearch) => ({ ...prev, ...patch }) }),
    [navigate],
  );

  useEffect(() => onCommand((c) => c === 'new-ticket' && canOpen && setNewOpen(true)), [canOpen]);

  const open = useCallback(
    (row: QueueRowFragment) => void navigate({ to: '/tickets/$number', params: { number: row.number } }),
    [navigate],
  );

  const assignToMe = useCallback(
    async (row: QueueRowFragment) => {
      if (!canAssign) return;
      const r = await run(row.id, 'assign', { assignee: user.name }, row.version);
      if (r.outcome.kind === 'ok') toast(`${row.number}: ${t('ticket.done', { action: t('ticket.assignToMe') })}`);
      else toast(`${row.number}: ${failureText(r, t)}`, 'error');
    },
    [canAssign, user.name, t],
  );

  const onRowKey = useCallback(
    (e: KeyboardEvent, row: QueueRowFragment) => {
      if (e.key === 'a' && !e.ctrlKey && !e.metaKey) {
        void assignToMe(row);
        return true;
      }
      return false;
    },
    [assignToMe],
  );

  // j/k from anywhere on the page (not while typing) land in the grid.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.defaultPrevented || isTyping(e) || dialogOpen() || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key !== 'j' && e.key !== 'k') return;
      if ((e.target as HTMLElement).closest?.('[role="grid"]')) return;
      const rows = pages.rows;
      if (rows.length === 0) return;
      e.preventDefault();
      const idx = rows.findIndex((r) => r.id === activeId);
      const target = rows[idx < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, idx + (e.key === 'j' ? 1 : -1)))];
      setActiveId(target.id);
      requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-row-id="${target.id}"]`)?.focus());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pages.rows, activeId]);

  const byId = useMemo(() => new Map(pages.rows.map((r) => [r.id, r])), [pages.rows]);
  const selectedRows = [...selected].map((id) => byId.get(id)).filter((r): r is QueueRowFragment => Boolean(r));

  return (
    <div className="flex h-full flex-col">
      <div className="flex flex-wrap items-center gap-3 border-b border-line bg-panel px-3 py-2">
        <h1 className="text-sm font-semibold">{t('queue.title')}</h1>
        <span className="text-xs tabular-nums text-muted" aria-live="polite">
          {pages.totalCount !== null ? t('queue.total', { count: pages.totalCount }) : ''}
        </span>
        <Counts onPick={(sev) => set({ status: ['NEW'], assignee: 'unassigned', severity: [sev] })} />
        <div className="ml-auto flex items-center gap-2">
          <SavedViews search={search} />
          <button type="button" className="btn btn-sm" aria-pressed={paused} onClick={() => livePause.set(!paused)}>
            {paused ? t('queue.resume') : t('queue.pause')}
          </button>
          {canOpen && (
            <button type="button" className="btn btn-primary btn-sm" onClick={() => setNewOpen(true)}>
              {t('queue.newTicket')}
            </button>
          )}
        </div>
      </div>
      <FilterBar search={search} set={set} me={user.name} />
      <BulkBar rows={selectedRows} roles={user.roles} me={user.name} onClear={() => setSelected(new Set())} />
      {pages.error && (
        <p role="alert" className="border-b border-line bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
          {t('errors.generic', { detail: pages.error })}{' '}
          <button type="button" className="btn btn-sm" onClick={pages.reload}>
            {t('errors.retry')}
          </button>
        </p>
      )}
      <QueueGrid
        rows={pages.rows}
        totalCount={pages.totalCount}
        columns={search.columns ?? DEFAULT_COLUMNS}
        sort={search.sort ?? DEFAULT_SORT}
        onSort={(s) => set({ sort: s === DEFAULT_SORT ? undefined : s })}
        filter={filter}
        selected={selected}
        onToggle={(id) =>
          setSelected((s) => {
            const n = new Set(s);
            if (n.has(id)) n.delete(id);
            else n.add(id);
            return n;
          })
        }
        onToggleAll={(ids) => setSelected(new Set(ids))}
        activeId={activeId}
        onActive={setActiveId}
        onOpen={open}
        onKey={onRowKey}
        hasMore={pages.hasMore}
        loadMore={pages.loadMore}
        loading={pages.fetching}
        viewKey={viewKey}
        initialScrollTop={place.scrollTop}
        onScrollTop={(top) => {
          scrollTop.current = top;
          const p = places.get(viewKey);
          if (p) p.scrollTop = top;
        }}
      />
      <NewTicketDialog open={newOpen} onClose={() => setNewOpen(false)} />
    </div>
  );
}
