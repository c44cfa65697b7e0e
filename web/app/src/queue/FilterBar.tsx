import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { AssignableUsersQuery } from '../graphql/documents';
import { onCommand } from '../shell/commands';
import { DateInput } from './DateInput';
import { COLUMN_IDS, DEFAULT_COLUMNS, DEFAULT_SORT, SEVERITIES, SORTS, SOURCES, STATUSES, type QueueSearch, type Sort } from './search';

type SetSearch = (patch: Partial<QueueSearch>) => void;

/** A text field that updates the URL when typing pauses (and on Enter). */
function DebouncedInput({
  value,
  onCommit,
  label,
  id,
  placeholder,
  className,
  inputRef,
  type = 'text',
}: {
  value: string;
  onCommit: (v: string) => void;
  label: string;
  id: string;
  placeholder?: string;
  className?: string;
  inputRef?: React.Ref<HTMLInputElement>;
  type?: string;
}) {
  const [text, setText] = useState(value);
  const [prev, setPrev] = useState(value);
  if (prev !== value) {
    setPrev(value);
    setText(value);
  }
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return (
    <div className={className}>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        ref={inputRef}
        type={type}
        className="input w-full"
        placeholder={placeholder}
        value={text}
        onChange={(e) => {
          const v = e.target.value;
          setText(v);
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => onCommit(v.trim()), 350);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            if (timer.current) clearTimeout(timer.current);
            onCommit(text.trim());
          } else if (e.key === 'Escape') {
            (e.target as HTMLInputElement).blur();
          }
        }}
      />
    </div>
  );
}

function Toggles<T extends string>({
  legend,
  values,
  selected,
  label,
  onChange,
}: {
  legend: string;
  values: readonly T[];
  selected: readonly T[] | undefined;
  label: (v: T) => string;
  onChange: (v: T[] | undefined) => void;
}) {
  const sel = selected ?? [];
  return (
    <fieldset>
      <legend className="label">{legend}</legend>
      <div className="flex flex-wrap gap-1">
        {values.map((v) => {
          const on = sel.includes(v);
          return (
            <button
              key={v}
              type="button"
              aria-pressed={on}
              className={`btn btn-sm ${on ? '!border-accent !bg-[#1c2e4a] !text-fg' : 'text-muted'}`}
              onClick={() => {
                const next = on ? sel.filter((x) => x !== v) : [...sel, v];
                onChange(next.length > 0 ? next : undefined);
              }}
            >
              {label(v)}
            </button>
          );
        })}
      </div>
    </fieldset>
  );
}

export function FilterBar({ search, set, me }: { search: QueueSearch; set: SetSearch; me: string }) {
  const { t } = useTranslation();
  const id = useId();
  const searchRef = useRef<HTMLInputElement>(null);
  const [users] = useQuery({ query: AssignableUsersQuery });
  useEffect(
    () =>
      onCommand((c) => {
        if (c === 'focus-search') {
          searchRef.current?.focus();
          searchRef.current?.select();
        }
      }),
    [],
  );
  const columns = search.columns ?? DEFAULT_COLUMNS;
  const assigneeValue = search.assignee ?? '';
  const known = new Set(['', 'me', 'unassigned', ...(users.data?.users ?? []).map((u) => u.username)]);

  return (
    <section aria-label={t('queue.filters')} className="flex flex-wrap items-end gap-x-4 gap-y-3 border-b border-line bg-panel px-3 py-3">
      <DebouncedInput
        id={`${id}-q`}
        inputRef={searchRef}
        label={t('queue.search')}
        placeholder={t('queue.searchPlaceholder')}
        value={search.q ?? ''}
        onCommit={(v) => set({ q: v || undefined })}
        className="w-64"
      />
      <Toggles legend={t('queue.status')} values={STATUSES} selected={search.status} label={(v) => t(`status.${v}`)} onChange={(v) => set({ status: v })} />
      <Toggles
        legend={t('queue.severity')}
        values={SEVERITIES}
        selected={search.severity}
        label={(v) => t(`severity.${v}`)}
        onChange={(v) => set({ severity: v })}
      />
      <div>
        <label className="label" htmlFor={`${id}-assignee`}>
          {t('queue.assignee')}
        </label>
        <select
          id={`${id}-assignee`}
          className="input w-40"
          value={assigneeValue}
          onChange={(e) => set({ assignee: e.target.value || undefined })}
        >
          <option value="">{t('queue.anyone')}</option>
          <option value="me">{t('queue.me')} ({me})</option>
          <option value="unassigned">{t('queue.unassigned')}</option>
          {(users.data?.users ?? [])
            .filter((u) => u.username !== me)
            .map((u) => (
              <option key={u.username} value={u.username}>
                {u.displayName || u.username}
              </option>
            ))}
          {!known.has(assigneeValue) && <option value={assigneeValue}>{assigneeValue}</option>}
        </select>
      </div>
      <div>
        <label className="label" htmlFor={`${id}-source`}>
          {t('queue.source')}
        </label>
        <select
          id={`${id}-source`}
          className="input w-36"
          value={search.source?.[0] ?? ''}
          onChange={(e) => set({ source: e.target.value ? [e.target.value as (typeof SOURCES)[number]] : undefined })}
        >
          <option value="">{t('queue.anySource')}</option>
          {SOURCES.map((s) => (
            <option key={s} value={s}>
              {t(`source.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <DebouncedInput id={`${id}-tag`} label={t('queue.tag')} value={search.tag ?? ''} onCommit={(v) => set({ tag: v || undefined })} className="w-32" />
      <DebouncedInput
        id={`${id}-obs`}
        label={t('queue.observable')}
        value={search.observable ?? ''}
        onCommit={(v) => set({ observable: v || undefined })}
        className="w-40"
        placeholder="203.0.113.7"
      />
      <DateInput id={`${id}-from`} label={t('queue.createdAfter')} value={search.createdAfter} onCommit={(v) => set({ createdAfter: v })} />
      <DateInput id={`${id}-to`} label={t('queue.createdBefore')} value={search.createdBefore} onCommit={(v) => set({ createdBefore: v })} />
      <div>
        <label className="label" htmlFor={`${id}-sort`}>
          {t('queue.sort')}
        </label>
        <select
          id={`${id}-sort`}
          className="input w-52"
          value={search.sort ?? DEFAULT_SORT}
          onChange={(e) => set({ sort: e.target.value === DEFAULT_SORT ? undefined : (e.target.value as Sort) })}
        >
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {t(`queue.sortOptions.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <details className="relative">
        <summary className="btn list-none">{t('queue.columns')}</summary>
        <fieldset className="panel absolute right-0 z-30 mt-1 w-52 space-y-1 p-2 shadow-xl">
          <legend className="sr-only">{t('queue.columns')}</legend>
          {COLUMN_IDS.map((c) => (
            <label key={c} className="flex items-center gap-2 text-[0.8125rem]">
              <input
                type="checkbox"
                className="accent-accent-strong"
                checked={columns.includes(c)}
                disabled={c === 'number'}
                onChange={(e) => {
                  const next = e.target.checked ? COLUMN_IDS.filter((x) => x === c || columns.includes(x)) : columns.filter((x) => x !== c);
                  const same = next.length === DEFAULT_COLUMNS.length && next.every((x, i) => x === DEFAULT_COLUMNS[i]);
                  set({ columns: same ? undefined : next });
                }}
              />
              {t(`queue.columnNames.${c}`)}
            </label>
          ))}
        </fieldset>
      </details>
      <button
        type="button"
        className="btn btn-ghost"
        onClick={() => set({ status: undefined, severity: undefined, assignee: undefined, source: undefined, tag: undefined, q: undefined, observable: undefined, createdAfter: undefined, createdBefore: undefined })}
      >
        {t('queue.clearFilters')}
      </button>
    </section>
  );
}
