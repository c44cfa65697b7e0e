// The ticket's events from the event store, a page at a time
// (ticketHistory with `first`/`after`/`reverse`), never the whole stream:
// who, when (recorded and occurred), channel, request id, a one-line
// summary in the UI's language and the event's exact field changes. Up to
// `upTo` (the version shown: now, or the past one being viewed).
import { Link } from '@tanstack/react-router';
import { memo, useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import type { TicketHistoryPageQuery } from '../gql/graphql';
import { Section } from '../ticket/Section';
import { toast } from '../ui/toast';
import { TicketHistoryPageQuery as PageQuery } from './documents';
import { downloadHistory } from './exportHistory';
import { formatInstant } from './format';
import { changeValue, fieldLabel, renderSummary } from './summary';

export const PAGE_SIZE = 50;

type Event = TicketHistoryPageQuery['ticketHistory'][number];

export function Timeline({ ticketId, number, upTo }: { ticketId: string; number: string; upTo: number }) {
  const { t } = useTranslation();
  const id = useId();
  const [reverse, setReverse] = useState(true);
  const [pages, setPages] = useState(1);
  const [exporting, setExporting] = useState(false);

  async function exportAll() {
    setExporting(true);
    try {
      await downloadHistory(ticketId, number);
      toast(t('history.exported', { number }));
    } catch (e) {
      toast(t('history.exportError', { detail: e instanceof Error ? e.message : String(e) }), 'error');
    } finally {
      setExporting(false);
    }
  }

  return (
    <Section
      title={t('history.timeline')}
      actions={
        <>
          <label htmlFor={`${id}-order`} className="text-xs text-muted">
            {t('history.order')}
          </label>
          <select
            id={`${id}-order`}
            className="input py-0.5 text-xs"
            value={reverse ? 'newest' : 'oldest'}
            onChange={(e) => {
              setReverse(e.target.value === 'newest');
              setPages(1);
            }}
          >
            <option value="newest">{t('history.newestFirst')}</option>
            <option value="oldest">{t('history.oldestFirst')}</option>
          </select>
          <button type="button" className="btn btn-sm" disabled={exporting} onClick={() => void exportAll()}>
            {exporting ? t('history.exporting') : t('history.export')}
          </button>
        </>
      }
    >
      <ol className="text-[0.8125rem]" aria-label={t('history.timeline')}>
        <Page
          key={`${reverse}`}
          ticketId={ticketId}
          number={number}
          // Newest first starts just above the version shown (the cursor is the sequence).
          after={reverse ? String(upTo + 1) : null}
          reverse={reverse}
          upTo={upTo}
          remaining={pages}
          more={() => setPages((p) => p + 1)}
        />
      </ol>
    </Section>
  );
}

function Page({
  ticketId,
  number,
  after,
  reverse,
  upTo,
  remaining,
  more,
}: {
  ticketId: string;
  number: string;
  after: string | null;
  reverse: boolean;
  upTo: number;
  remaining: number;
  more: () => void;
}) {
  const { t } = useTranslation();
  const [r] = useQuery({ query: PageQuery, variables: { id: ticketId, first: PAGE_SIZE, after, reverse } });
  if (r.error && !r.data) {
    return (
      <li className="py-2 text-danger">
        <span role="alert">{t('history.loadError', { detail: r.error.message })}</span>
      </li>
    );
  }
  if (!r.data) {
    return (
      <li className="py-2 text-muted">
        <span role="status">{t('history.loading')}</span>
      </li>
    );
  }
  const events = r.data.ticketHistory.filter((e) => e.sequence <= upTo);
  const last = events[events.length - 1];
  const hasMore = last ? (reverse ? last.sequence > 1 : last.sequence < upTo) : false;
  return (
    <>
      {events.length === 0 && after === null && <li className="py-2 text-muted">{t('history.noEvents')}</li>}
      {events.map((e) => (
        <EventItem key={e.position} event={e} number={number} />
      ))}
      {last && hasMore && remaining > 1 ? (
        <Page
          ticketId={ticketId}
          number={number}
          after={last.cursor}
          reverse={reverse}
          upTo={upTo}
          remaining={remaining - 1}
          more={more}
        />
      ) : (
        <li className="flex items-center gap-3 border-t border-line pt-2">
          {hasMore ? (
            <button type="button" className="btn btn-sm" onClick={more}>
              {t('history.loadMore')}
            </button>
          ) : (
            events.length > 0 && <span className="text-xs text-muted">{t('history.end')}</span>
          )}
        </li>
      )}
    </>
  );
}

function Meta({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex min-w-0 gap-1">
      <dt className="text-faint">{label}:</dt>
      <dd className="min-w-0 break-all">{children}</dd>
    </div>
  );
}

// A row is the same while its event is: paging back and forth re-renders only new rows.
const EventItem = memo(function EventItem({ event: e, number }: { event: Event; number: string }) {
  const { t } = useTranslation();
  const kind = e.actorKind ? t(`history.actorKind.${e.actorKind}`, { defaultValue: e.actorKind }) : null;
  return (
    <li className="border-t border-line py-2 first:border-t-0" data-sequence={e.sequence}>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <Link
          to="/tickets/$number"
          params={{ number }}
          search={{ version: e.sequence }}
          className="font-mono text-xs"
          aria-label={t('history.viewVersion', { version: e.sequence })}
          title={t('history.viewVersion', { version: e.sequence })}
        >
          v{e.sequence}
        </Link>
        <span className="min-w-0 flex-1 break-words font-medium">{renderSummary(e, t)}</span>
      </div>
      <dl className="mt-1 flex flex-wrap gap-x-4 gap-y-0.5 text-xs text-muted">
        <Meta label={t('history.cols.who')}>
          <span className="text-fg">{e.actor}</span>
          {kind && ` (${kind})`}
        </Meta>
        <Meta label={t('history.recorded')}>
          <time dateTime={e.recordedAt}>{formatInstant(e.recordedAt)}</time>
        </Meta>
        <Meta label={t('history.occurred')}>
          <time dateTime={e.occurredAt}>{formatInstant(e.occurredAt)}</time>
        </Meta>
        {e.channel && <Meta label={t('history.cols.channel')}>{e.channel}</Meta>}
        <Meta label={t('history.cols.requestId')}>
          <span className="font-mono">{e.requestId ?? t('history.noRequestId')}</span>
        </Meta>
      </dl>
      {e.changes.length === 0 ? (
        <p className="mt-1 text-xs text-faint">{t('history.noChanges')}</p>
      ) : (
        <table className="mt-1 w-full text-left text-xs">
          <caption className="sr-only">{t('history.cols.changes')}</caption>
          <tbody>
            {e.changes.map((c) => (
              <tr key={c.field} className="align-top">
                <th scope="row" className="w-40 py-0.5 pr-2 font-normal text-muted">
                  {fieldLabel(c.field, t)}
                </th>
                <td className="py-0.5 break-words">
                  <del className="text-muted decoration-1">{changeValue(c.field, c.before, t, formatInstant)}</del>
                  <span aria-hidden="true" className="px-1 text-faint">
                    →
                  </span>
                  <ins className="no-underline">{changeValue(c.field, c.after, t, formatInstant)}</ins>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
});
