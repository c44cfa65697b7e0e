// The time-travel control (a stepper and slider over versions 1..current, a
// date-time picker) and, when the page shows the past, the banner saying so
// and the diff against now. The state lives in the URL (asOf.ts).
import { Link, useNavigate } from '@tanstack/react-router';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { asOfSearch, fromLocalInput, toLocalInput, type AsOf } from './asOf';
import { datePattern, dateTimePlaceholder, formatLocalDateTime, parseLocalDateTime } from '../queue/dateText';
import { diffTickets, type Comparable, type DiffField, type DiffValue } from './diff';
import { formatInstant } from './format';
import { CalendarButton } from '../ui/CalendarButton';

interface Props {
  number: string;
  asOf: AsOf;
  /** The version now. */
  latest: number;
  /** The version on screen (the past one, or `latest`). */
  shown: number;
  /** When the shown version was made (its last event). */
  shownAt: string;
}

export function TimeTravel({ number, asOf, latest, shown, shownAt }: Props) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const navigate = useNavigate();
  // Typed text in the UI language's order and a 24-hour clock, not
  // <input type="datetime-local">: Chromium draws that in its own locale
  // (mm/dd and AM/PM in an English browser under a Spanish UI; dateText.ts).
  const pattern = datePattern(i18n.language);
  // The field shows the point on screen; a draft belongs to the point (and
  // language) it was typed over, so a step shows the new point.
  const shownText = formatLocalDateTime(asOf.kind === 'past' && asOf.at ? asOf.at : shownAt, pattern);
  const [draft, setDraft] = useState<{ text: string; from: string } | null>(null);
  const text = draft && draft.from === `${shownText}|${i18n.language}` ? draft.text : shownText;
  const [whenError, setWhenError] = useState<string | null>(null);

  const travelTo = (at: string) =>
    void navigate({ to: '/tickets/$number', params: { number }, search: asOfSearch({ kind: 'past', version: null, at }) });

  const go = (version: number) => {
    const v = Math.min(Math.max(1, version), latest);
    // The newest version is now: the URL says nothing then.
    const search = v === latest ? {} : asOfSearch({ kind: 'past', version: v, at: null });
    void navigate({ to: '/tickets/$number', params: { number }, search, replace: true });
  };

  function pick(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) {
      setWhenError(t('history.travel.emptyAt'));
      return;
    }
    const at = parseLocalDateTime(text, pattern);
    if (at === null || at === 'invalid') {
      setWhenError(t('history.travel.typedAt', { value: text, pattern: dateTimePlaceholder(pattern) }));
      return;
    }
    setWhenError(null);
    setDraft(null);
    travelTo(at);
  }

  const past = asOf.kind !== 'now';
  return (
    <section aria-labelledby={`${id}-h`} className={`panel mb-3 p-3 ${past ? 'border-[#6d5a25]' : ''}`}>
      <h2 id={`${id}-h`} className="mb-2 text-xs font-semibold uppercase tracking-wide text-muted">
        {t('history.travel.title')}
      </h2>
      <div className="flex flex-wrap items-end gap-x-6 gap-y-3">
        <div className="flex items-center gap-1" role="group" aria-label={t('history.travel.version')}>
          <button type="button" className="btn btn-sm" disabled={shown <= 1} aria-label={t('history.travel.first')} title={t('history.travel.first')} onClick={() => go(1)}>
            «
          </button>
          <button type="button" className="btn btn-sm" disabled={shown <= 1} aria-label={t('history.travel.previous')} title={t('history.travel.previous')} onClick={() => go(shown - 1)}>
            ‹
          </button>
          <input
            type="range"
            className="mx-2 w-48 accent-[#76aefc]"
            min={1}
            max={Math.max(1, latest)}
            step={1}
            value={shown}
            aria-label={t('history.travel.slider', { max: latest })}
            aria-valuetext={`${t('history.travel.version')} ${shown} / ${latest}`}
            onChange={(e) => go(Number(e.target.value))}
          />
          <button type="button" className="btn btn-sm" disabled={shown >= latest} aria-label={t('history.travel.next')} title={t('history.travel.next')} onClick={() => go(shown + 1)}>
            ›
          </button>
          <button type="button" className="btn btn-sm" disabled={shown >= latest} aria-label={t('history.travel.last')} title={t('history.travel.last')} onClick={() => go(latest)}>
            »
          </button>
          <output className="ml-2 font-mono text-xs tabular-nums" aria-live="off">
            {shown} / {latest}
          </output>
        </div>
        <form onSubmit={pick} className="flex items-end gap-2" noValidate>
          <div>
            <label className="label" htmlFor={`${id}-at`}>
              {t('history.travel.at')}
            </label>
            <div className="relative flex w-fit items-center">
              <input
                id={`${id}-at`}
                type="text"
                inputMode="numeric"
                autoComplete="off"
                lang={i18n.language}
                className="input w-48 pr-8 tabular-nums"
                placeholder={dateTimePlaceholder(pattern)}
                value={text}
                aria-invalid={whenError !== null}
                aria-describedby={whenError ? `${id}-err` : undefined}
                onChange={(e) => {
                  setDraft({ text: e.target.value, from: `${shownText}|${i18n.language}` });
                  setWhenError(null);
                }}
              />
              <CalendarButton
                kind="datetime-local"
                label={t('history.travel.pickAt')}
                value={() => {
                  const at = parseLocalDateTime(text, pattern);
                  return toLocalInput(at !== null && at !== 'invalid' ? at : shownAt);
                }}
                onPick={(value) => {
                  const at = fromLocalInput(value);
                  if (!at) return;
                  setDraft(null);
                  setWhenError(null);
                  travelTo(at);
                }}
              />
            </div>
          </div>
          <button type="submit" className="btn btn-sm">
            {t('history.travel.go')}
          </button>
        </form>
        {past && (
          <Link to="/tickets/$number" params={{ number }} search={{}} className="btn btn-sm btn-primary">
            {t('history.travel.now')}
          </Link>
        )}
      </div>
      {whenError && (
        <p id={`${id}-err`} role="alert" className="mt-2 text-xs text-danger">
          {whenError}
        </p>
      )}
      {!past && <p className="mt-2 text-xs text-muted">{t('history.travel.current', { version: latest })}</p>}
    </section>
  );
}

export function PastBanner({ version, total, at, loading }: { version: number; total: number; at: string; loading: boolean }) {
  const { t } = useTranslation();
  return (
    <div role="status" className="mb-3 rounded-md border border-[#6d5a25] bg-[#2a2310] px-3 py-2 text-[0.8125rem] text-[#ffe7a8]">
      <p className="font-medium" data-testid="as-of-banner" data-version={loading ? undefined : version}>
        {t('history.travel.banner', { version, total, date: formatInstant(at) })}
      </p>
      <p className="text-xs">{loading ? t('history.travel.loading') : t('history.travel.readOnly')}</p>
    </div>
  );
}

export function diffValueText(field: DiffField, v: DiffValue, t: TFunction): string {
  if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) return t('history.value.none');
  if (field === 'observables' && Array.isArray(v)) {
    // `KIND value`, as diff.ts makes them: the kind in the UI's language.
    return v.map((o) => o.replace(/^(\S+) /, (_m: string, k: string) => `${t(`observableKind.${k}`, { defaultValue: k })} `)).join(', ');
  }
  if (Array.isArray(v)) return v.join(', ');
  if (field === 'status' || field === 'severity' || field === 'resolution') return t(`${field}.${String(v)}`, { defaultValue: String(v) });
  if (field === 'lastSeen' || field === 'acknowledgedAt' || field === 'resolvedAt') return formatInstant(String(v));
  return String(v);
}

export function DiffWithNow({ then, now }: { then: Comparable; now: Comparable }) {
  const { t } = useTranslation();
  const id = useId();
  const rows = diffTickets(then, now);
  return (
    <section aria-labelledby={id} className="panel mb-3 p-3">
      <h2 id={id} className="mb-2 text-xs font-semibold uppercase tracking-wide text-muted">
        {t('history.travel.diff')}
      </h2>
      {rows.length === 0 ? (
        <p className="text-[0.8125rem] text-muted">{t('history.travel.noDiff')}</p>
      ) : (
        <table className="w-full text-left text-[0.8125rem]">
          <caption className="sr-only">{t('history.travel.diff')}</caption>
          <thead className="text-xs text-muted">
            <tr>
              <th scope="col" className="py-1 pr-3 font-medium">{t('history.travel.field')}</th>
              <th scope="col" className="py-1 pr-3 font-medium">{t('history.travel.then')}</th>
              <th scope="col" className="py-1 font-medium">{t('history.travel.nowCol')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.field} className="border-t border-line align-top" data-field={r.field}>
                <th scope="row" className="py-1 pr-3 font-normal text-muted">
                  {t(`history.field.${r.field}`)}
                </th>
                <td className="py-1 pr-3 break-words">{diffValueText(r.field, r.then, t)}</td>
                <td className="py-1 break-words">{diffValueText(r.field, r.now, t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
