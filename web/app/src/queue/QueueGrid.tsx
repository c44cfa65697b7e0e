// The queue: an ARIA grid named "Tickets", virtualized (only the rows in view
// are in the DOM), keyed by ticket id. Live changes keep your place: when
// tickets arrive above the view while you are scrolled down, the scroll
// position moves with them (the rows you look at stay put) and a "N nuevos"
// pill offers to jump up; selection and the active row are ids, so they
// survive every patch.
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type Row,
  type VisibilityState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { QueueRowFragment, TicketFilter } from '../gql/graphql';
import { SeverityBadge, StatusBadge } from '../ui/badges';
import { formatShort } from '../ui/format';
import { insertedAbove } from './live';
import { COLUMN_IDS, matchesFilter, type ColumnId, type Sort } from './search';

export const ROW_HEIGHT = 34;

const WIDTH: Record<ColumnId, string> = {
  number: '92px',
  severity: '96px',
  status: '112px',
  title: 'minmax(220px, 1fr)',
  assignee: '140px',
  source: '104px',
  sourceIp: '128px',
  destinationIp: '128px',
  tags: '160px',
  alerts: '68px',
  created: '124px',
  updated: '124px',
};

const SORTABLE: Partial<Record<ColumnId, string>> = {
  number: 'number',
  severity: 'severity',
  created: 'created',
  updated: 'updated',
};

const h = createColumnHelper<QueueRowFragment>();

export interface QueueGridProps {
  rows: QueueRowFragment[];
  totalCount: number | null;
  columns: readonly ColumnId[];
  sort: Sort;
  onSort: (s: Sort) => void;
  filter: TicketFilter;
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onToggleAll: (ids: string[]) => void;
  activeId: string | null;
  onActive: (id: string) => void;
  onOpen: (row: QueueRowFragment) => void;
  onKey: (e: KeyboardEvent, row: QueueRowFragment) => boolean;
  hasMore: boolean;
  loadMore: () => void;
  loading: boolean;
  /** Changes when the view (filter, order) changes: back to the top then. */
  viewKey: string;
  /** Where this view was scrolled when last left (restored once), and a report of scrolling. */
  initialScrollTop: number;
  onScrollTop: (top: number) => void;
}

interface RowHandlers {
  onActive: (id: string) => void;
  onOpen: (row: QueueRowFragment) => void;
  onToggle: (id: string) => void;
  onKeyDown: (e: KeyboardEvent, row: QueueRowFragment) => void;
}

/**
 * One row, re-rendered only when its ticket, its state or its place changes
 * (not on every scroll frame).
 */
const RowView = memo(function RowView({
  row,
  index,
  start,
  template,
  isSelected,
  isActive,
  isTabStop,
  stale,
  handlers,
}: {
  row: Row<QueueRowFragment>;
  columnsKey: string;
  index: number;
  start: number;
  template: string;
  isSelected: boolean;
  isActive: boolean;
  isTabStop: boolean;
  stale: boolean;
  handlers: RefObject<RowHandlers>;
}) {
  const { t } = useTranslation();
  const r = row.original;
  return (
    <div
      role="row"
      data-row-id={r.id}
      aria-rowindex={index + 2}
      aria-selected={isSelected}
      tabIndex={isTabStop ? 0 : -1}
      onFocus={() => {
        if (!isActive) handlers.current.onActive(r.id);
      }}
      onClick={(e) => {
        handlers.current.onActive(r.id);
        if ((e.target as HTMLElement).closest('input,a,button')) return;
        handlers.current.onOpen(r);
      }}
      onKeyDown={(e) => handlers.current.onKeyDown(e, r)}
      className={`queue-row absolute left-0 grid w-full cursor-pointer items-center border-b border-line/60 text-[0.8125rem] ${isActive ? 'queue-row-active' : ''} ${
        isSelected ? 'bg-[#17263d]' : isActive ? 'bg-panel-2' : 'hover:bg-panel-2'
      } ${stale ? 'opacity-60' : ''}`}
      style={{ height: ROW_HEIGHT, transform: `translateY(${start}px)`, gridTemplateColumns: template }}
    >
      <div role="gridcell" className="flex justify-center">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={t('queue.selectRow', { number: r.number })}
          checked={isSelected}
          onChange={() => handlers.current.onToggle(r.id)}
          className="accent-accent-strong"
        />
      </div>
      {row.getVisibleCells().map((cell) => (
        <div key={cell.id} role="gridcell" className="flex min-w-0 items-center gap-1.5 overflow-hidden px-2">
          {flexRender(cell.column.columnDef.cell, cell.getContext())}
          {cell.column.id === 'title' && stale && <span className="chip shrink-0 text-faint">{t('queue.outOfFilter')}</span>}
        </div>
      ))}
    </div>
  );
});

export function QueueGrid(p: QueueGridProps) {
  const { t } = useTranslation();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [newAbove, setNewAbove] = useState(0);
  const prevIds = useRef<string[]>([]);
  const prevView = useRef(p.viewKey);
  const restored = useRef(p.initialScrollTop === 0);

  const columns = useMemo(
    () =>
      [
        h.accessor('number', {
          id: 'number',
          cell: (c) => <span className="font-mono text-[0.78rem] text-accent">{c.getValue()}</span>,
        }),
        h.accessor('severity', { id: 'severity', cell: (c) => <SeverityBadge severity={c.getValue()} /> }),
        h.accessor('status', { id: 'status', cell: (c) => <StatusBadge status={c.getValue()} /> }),
        h.accessor('title', { id: 'title', cell: (c) => <span className="truncate">{c.getValue()}</span> }),
        h.accessor((r) => r.assigneeName ?? r.assignee, {
          id: 'assignee',
          cell: (c) => (c.getValue() ? <span className="truncate">{c.getValue()}</span> : <span className="text-faint">—</span>),
        }),
        h.accessor('source', { id: 'source', cell: (c) => <span className="text-muted">{t(`source.${c.getValue()}`)}</span> }),
        h.accessor('sourceIp', { id: 'sourceIp', cell: (c) => <span className="font-mono text-[0.75rem]">{c.getValue() ?? '—'}</span> }),
        h.accessor('destinationIp', {
          id: 'destinationIp',
          cell: (c) => <span className="font-mono text-[0.75rem]">{c.getValue() ?? '—'}</span>,
        }),
        h.accessor('tags', {
          id: 'tags',
          cell: (c) => (
            <span className="flex gap-1 overflow-hidden">
              {c.getValue().map((tag) => (
                <span key={tag} className="chip">
                  {tag}
                </span>
              ))}
            </span>
          ),
        }),
        h.accessor('alertCount', { id: 'alerts', cell: (c) => <span className="tabular-nums text-muted">{c.getValue()}</span> }),
        h.accessor('createdAt', { id: 'created', cell: (c) => <span className="text-muted">{formatShort(c.getValue())}</span> }),
        h.accessor('updatedAt', { id: 'updated', cell: (c) => <span className="text-muted">{formatShort(c.getValue())}</span> }),
      ],
    [t],
  );

  const visibility = useMemo<VisibilityState>(
    () => Object.fromEntries(COLUMN_IDS.map((c) => [c, p.columns.includes(c)])),
    [p.columns],
  );
  const order = useMemo(() => p.columns.slice(), [p.columns]);

  const table = useReactTable({
    data: p.rows,
    columns,
    state: { columnVisibility: visibility, columnOrder: order },
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => r.id,
  });
  const tableRows = table.getRowModel().rows;

  const virtualizer = useVirtualizer({
    count: tableRows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (i) => tableRows[i]?.id ?? i,
  });

  // Keep the place when rows arrive above the viewport.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const ids = p.rows.map((r) => r.id);
    if (!restored.current && el && ids.length > 0) {
      // Back from a ticket: the same scroll position, the active row focused.
      if (ids.length * ROW_HEIGHT >= p.initialScrollTop || !p.hasMore) {
        restored.current = true;
        el.scrollTop = p.initialScrollTop;
        prevIds.current = ids;
        return;
      }
    }
    if (prevView.current !== p.viewKey) {
      prevView.current = p.viewKey;
      prevIds.current = ids;
      setNewAbove(0);
      if (el) el.scrollTop = 0;
      return;
    }
    // Rows may arrive anywhere (queue/live.ts): those above the first row in view shift it.
    const firstVisible = el ? Math.floor(el.scrollTop / ROW_HEIGHT) : 0;
    const added = insertedAbove(prevIds.current, ids, firstVisible);
    prevIds.current = ids;
    if (added > 0 && el && el.scrollTop > 0) {
      el.scrollTop += added * ROW_HEIGHT;
      setNewAbove((n) => n + added);
    }
  }, [p.rows, p.viewKey, p.initialScrollTop, p.hasMore]);

  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length > 0 ? items[items.length - 1].index : -1;
  const { hasMore, loadMore, loading } = p;
  useEffect(() => {
    if (hasMore && !loading && lastIndex >= tableRows.length - 25) loadMore();
  }, [lastIndex, tableRows.length, hasMore, loading, loadMore]);

  // Keep the active row in view and focused when it moves by keyboard.
  const activeIndex = p.activeId ? tableRows.findIndex((r) => r.id === p.activeId) : -1;
  const focusRequest = useRef(false);
  useEffect(() => {
    if (!focusRequest.current || activeIndex < 0) return;
    focusRequest.current = false;
    virtualizer.scrollToIndex(activeIndex, { align: 'auto' });
    requestAnimationFrame(() => {
      scrollRef.current?.querySelector<HTMLElement>(`[data-row-id="${p.activeId}"]`)?.focus();
    });
  }, [activeIndex, p.activeId, virtualizer]);

  function move(delta: number) {
    if (tableRows.length === 0) return;
    const from = activeIndex < 0 ? (delta > 0 ? -1 : tableRows.length) : activeIndex;
    const to = Math.max(0, Math.min(tableRows.length - 1, from + delta));
    focusRequest.current = true;
    p.onActive(tableRows[to].id);
  }

  function onKeyDown(e: KeyboardEvent, row: QueueRowFragment) {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'ArrowDown' || e.key === 'j') move(1);
    else if (e.key === 'ArrowUp' || e.key === 'k') move(-1);
    else if (e.key === 'PageDown') move(15);
    else if (e.key === 'PageUp') move(-15);
    else if (e.key === 'Home') move(-1e9);
    else if (e.key === 'End') move(1e9);
    else if (e.key === 'Enter') p.onOpen(row);
    else if (e.key === ' ' || e.key === 'x') p.onToggle(row.id);
    else if (!p.onKey(e, row)) return;
    e.preventDefault();
  }

  const template = `36px ${p.columns.map((c) => WIDTH[c]).join(' ')}`;
  const columnsKey = p.columns.join(',');
  // Rows are memoized; their event handlers reach the latest props through this ref.
  const handlers = useRef<RowHandlers>({ onActive: p.onActive, onOpen: p.onOpen, onToggle: p.onToggle, onKeyDown });
  useLayoutEffect(() => {
    handlers.current = { onActive: p.onActive, onOpen: p.onOpen, onToggle: p.onToggle, onKeyDown };
  });
  const loadedIds = tableRows.map((r) => r.id);
  const allSelected = loadedIds.length > 0 && loadedIds.every((id) => p.selected.has(id));
  const [sortField, sortDir] = p.sort.startsWith('-') ? [p.sort.slice(1), 'descending' as const] : [p.sort, 'ascending' as const];
  // With no active row yet, the first row takes the Tab stop.
  const tabStop = activeIndex >= 0 ? p.activeId : (tableRows[0]?.id ?? null);

  return (
    <div className="relative flex min-h-0 flex-1 flex-col">
      {newAbove > 0 && (
        <button
          type="button"
          className="btn btn-primary btn-sm absolute left-1/2 top-10 z-20 -translate-x-1/2 rounded-full shadow-lg"
          onClick={() => {
            scrollRef.current?.scrollTo({ top: 0 });
            setNewAbove(0);
          }}
        >
          ↑ {t('queue.newPill', { count: newAbove })}
        </button>
      )}
      <div
        ref={scrollRef}
        className="min-h-0 flex-1 overflow-auto"
        onScroll={(e) => {
          const top = e.currentTarget.scrollTop;
          if (top < ROW_HEIGHT && newAbove > 0) setNewAbove(0);
          if (restored.current) p.onScrollTop(top);
        }}
      >
        <div
          role="grid"
          aria-label={t('queue.grid')}
          aria-rowcount={(p.totalCount ?? tableRows.length) + 1}
          aria-colcount={p.columns.length + 1}
          aria-multiselectable="true"
          aria-busy={p.loading}
          className="min-w-[860px]"
        >
          <div role="rowgroup" className="sticky top-0 z-10 border-b border-line bg-panel">
            <div role="row" aria-rowindex={1} className="grid h-8 items-center text-[0.6875rem] font-semibold uppercase tracking-wide text-muted" style={{ gridTemplateColumns: template }}>
              <div role="columnheader" className="flex justify-center">
                <input
                  type="checkbox"
                  aria-label={t('queue.selectAll')}
                  checked={allSelected}
                  onChange={() => p.onToggleAll(allSelected ? [] : loadedIds)}
                  className="accent-accent-strong"
                />
              </div>
              {table.getHeaderGroups()[0].headers.map((header) => {
                const id = header.column.id as ColumnId;
                const sortKey = SORTABLE[id];
                const active = sortKey === sortField;
                return (
                  <div
                    key={header.id}
                    role="columnheader"
                    aria-sort={active ? sortDir : sortKey ? 'none' : undefined}
                    className="truncate px-2"
                  >
                    {sortKey ? (
                      <button
                        type="button"
                        className="inline-flex items-center gap-1 uppercase hover:text-fg"
                        onClick={() => p.onSort((active && sortDir === 'descending' ? sortKey : `-${sortKey}`) as Sort)}
                      >
                        {t(`queue.columnNames.${id}`)}
                        <span aria-hidden="true">{active ? (sortDir === 'descending' ? '↓' : '↑') : ''}</span>
                      </button>
                    ) : (
                      t(`queue.columnNames.${id}`)
                    )}
                  </div>
                );
              })}
            </div>
          </div>
          <div role="rowgroup" className="relative" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((vi) => {
              const row = tableRows[vi.index];
              if (!row) return null;
              const r = row.original;
              return (
                <RowView
                  key={r.id}
                  row={row}
                  columnsKey={columnsKey}
                  index={vi.index}
                  start={vi.start}
                  template={template}
                  isSelected={p.selected.has(r.id)}
                  isActive={r.id === p.activeId}
                  isTabStop={r.id === tabStop}
                  stale={!matchesFilter(r, p.filter)}
                  handlers={handlers}
                />
              );
            })}
          </div>
        </div>
        {!p.loading && tableRows.length === 0 && <p className="p-6 text-center text-muted">{t('queue.empty')}</p>}
        {p.loading && (
          <p role="status" className="p-3 text-center text-xs text-muted">
            {tableRows.length === 0 ? t('app.loading') : t('queue.loadingMore')}
          </p>
        )}
      </div>
    </div>
  );
}
