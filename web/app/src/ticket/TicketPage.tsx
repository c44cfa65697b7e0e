import { Link, useNavigate, useParams, useSearch } from '@tanstack/react-router';
import { memo, useDeferredValue, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useClient, useQuery, useSubscription } from 'urql';
import type { CommandBodies } from '../api/rest';
import { removeTag } from '../api/rest';
import { visibleCommands, type TicketCommand } from '../auth/permissions';
import { useUser } from '../auth/useSession';
import type { ObservableKind, Resolution, Severity, TicketDetailFragment } from '../gql/graphql';
import {
  AlertSamplesQuery,
  AssetForQuery,
  AssignableUsersQuery,
  TicketByIdQuery,
  TicketByNumberQuery,
  TicketUpdatedSubscription,
} from '../graphql/documents';
import { SEVERITIES } from '../queue/search';
import { SeverityBadge, StatusBadge } from '../ui/badges';
import { Dialog } from '../ui/Dialog';
import { formatDateTime } from '../ui/format';
import { Markdown } from '../ui/Markdown';
import { toast } from '../ui/toast';
import { failureText, lastChange, refetchTicket, run, type RunResult } from './commands';
import { validObservable } from './observables';
import { dialogOpen, isTyping } from '../shell/commands';
import { parseAsOf, type AsOf } from '../history/asOf';
import { EventOfVersionQuery, TicketAsOfCommentsQuery, TicketAsOfQuery } from '../history/documents';
import { Timeline } from '../history/Timeline';
import { DiffWithNow, PastBanner, TimeTravel } from '../history/TimeTravel';
import { formatInstant } from '../history/format';
import type { TicketStateFragment } from '../gql/graphql';
import { Field, Section } from './Section';

type Ticket = TicketDetailFragment;

// A direct link to a ticket opened a moment ago can come before the read
// model has it: ask again a few times (250 ms, doubling) before "not found".
const NOT_FOUND_RETRIES = 4;
const RETRY_BASE_MS = 250;

export function TicketPage() {
  const { t } = useTranslation();
  const { number } = useParams({ from: '/tickets/$number' });
  const search = useSearch({ from: '/tickets/$number' });
  const [res, reexecute] = useQuery({ query: TicketByNumberQuery, variables: { number } });
  const [retry, setRetry] = useState({ number, attempts: 0 });
  const attempts = retry.number === number ? retry.attempts : 0;
  const ticket = res.data?.ticket ?? null;
  const missing = !res.fetching && !res.error && res.data !== undefined && !ticket;
  const retrying = missing && attempts < NOT_FOUND_RETRIES;
  useEffect(() => {
    if (!retrying) return;
    const timer = setTimeout(() => {
      setRetry({ number, attempts: attempts + 1 });
      reexecute({ requestPolicy: 'network-only' });
    }, RETRY_BASE_MS * 2 ** attempts);
    return () => clearTimeout(timer);
  }, [retrying, attempts, number, reexecute]);
  if ((res.fetching || retrying) && !ticket) {
    return (
      <p role="status" className="p-6 text-muted">
        {t('ticket.loading')}
      </p>
    );
  }
  if (!ticket) {
    return (
      <div className="p-6">
        <p role="alert" className="mb-3">
          {res.error ? t('errors.generic', { detail: res.error.message }) : t('ticket.notFound', { number })}
        </p>
        <Link to="/tickets" search={{}} className="btn">
          {t('app.backToQueue')}
        </Link>
      </div>
    );
  }
  return <TicketView key={ticket.id} ticket={ticket} asOf={parseAsOf(search)} reload={() => reexecute({ requestPolicy: 'network-only' })} />;
}

/**
 * The ticket as of the URL's point (ticketAsOf), with the live ticket's id;
 * while the next point loads, the one before stays on screen. Its comments
 * are not part of that query (see usePastComments).
 */
function usePast(ticket: Ticket, asOf: AsOf) {
  const vars = {
    id: ticket.id,
    version: asOf.kind === 'past' ? asOf.version : null,
    at: asOf.kind === 'past' ? asOf.at : null,
  };
  const [r] = useQuery({ query: TicketAsOfQuery, variables: vars, pause: asOf.kind !== 'past' });
  const key = `${vars.version}|${vars.at}`;
  const [kept, setKept] = useState<{ key: string; state: TicketStateFragment | null } | null>(null);
  const fresh = r.data && !r.fetching && r.operation?.variables.version === vars.version && r.operation?.variables.at === vars.at;
  if (fresh && kept?.key !== key) setKept({ key, state: r.data?.ticketAsOf ?? null });
  const state = asOf.kind !== 'past' ? null : fresh ? (r.data?.ticketAsOf ?? null) : (kept?.state ?? null);
  const comments = usePastComments(ticket, state);
  const past = useMemo(
    () => (state && comments ? ({ ...state, id: ticket.id, comments } satisfies Ticket) : null),
    [state, comments, ticket.id],
  );
  return {
    past,
    loading: asOf.kind === 'past' && (!fresh || (state !== null && !comments)),
    known: fresh || kept !== null,
    error: r.error?.message ?? null,
  };
}

/**
 * The comments of a past state. Comments only grow (schema: FieldChange), so
 * they are the first `commentCount` of the live ticket's; the live ticket
 * holds its newest COMMENTS_LOADED, so a past state's newest are taken from
 * there when it holds them: no thousands of comments fetched and normalized
 * on every step. Otherwise they are asked of ticketAsOf itself.
 */
function usePastComments(ticket: Ticket, state: TicketStateFragment | null): Ticket['comments'] | null {
  const count = state?.commentCount ?? 0;
  // The live list is comments [offset, commentCount) of the ticket.
  const offset = ticket.commentCount - ticket.comments.length;
  const from = Math.max(0, count - COMMENTS_LOADED);
  const fromLive = state !== null && from >= offset && count - offset <= ticket.comments.length;
  const prefix = useMemo(
    () => (fromLive ? ticket.comments.slice(from - offset, count - offset) : null),
    [fromLive, ticket.comments, from, offset, count],
  );
  const [r] = useQuery({
    query: TicketAsOfCommentsQuery,
    variables: { id: ticket.id, version: state?.version ?? null, at: null },
    pause: state === null || fromLive,
  });
  if (prefix) return prefix;
  const fetched = r.data?.ticketAsOf;
  return fetched && fetched.version === state?.version ? fetched.comments : null;
}

function TicketView({ ticket, asOf, reload }: { ticket: Ticket; asOf: AsOf; reload: () => void }) {
  const { t } = useTranslation();
  const user = useUser();
  const client = useClient();
  const [conflict, setConflict] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [startVersion] = useState(ticket.version);
  // The version this user has seen (loaded, or reached by their own command):
  // anything newer came from someone else, live.
  const [seenVersion, setSeenVersion] = useState(ticket.version);

  // Live: the cache gets each new state of the ticket.
  useSubscription({ query: TicketUpdatedSubscription, variables: { id: ticket.id, afterVersion: startVersion } });
  // Who made the version on screen: the actor of exactly that event (the
  // read model's timeline is its first 200 entries, oldest first, so its
  // last entry was not the latest event of a long ticket).
  const changedLive = ticket.version > seenVersion;
  const [latestEvent] = useQuery({
    query: EventOfVersionQuery,
    variables: { id: ticket.id, after: String(ticket.version + 1) },
    pause: !changedLive,
  });
  const ev = latestEvent.data?.ticketHistory[0];
  const liveBy = changedLive && ev && ev.sequence === ticket.version && ev.actor !== user.name ? ev.actor : null;

  const { past, loading: pastLoading, known: pastKnown, error: pastError } = usePast(ticket, asOf);
  const inPast = asOf.kind !== 'now';
  // The past is read only: no command, comment box, tag or observable form.
  const commands = new Set(inPast ? [] : visibleCommands(user.roles, ticket.status));
  const shown: Ticket = past ?? ticket;
  // The version's fields first: its timeline page (fifty events with their
  // changes) follows in a render React may interrupt, so stepping through
  // versions is not held up by the page of the step before.
  const timelineUpTo = useDeferredValue(shown.version);

  async function exec<K extends TicketCommand>(command: K, body: CommandBodies[K]): Promise<boolean> {
    setError(null);
    const r: RunResult = await run(ticket.id, command, body, ticket.version, true);
    if (r.outcome.kind === 'ok') {
      setSeenVersion((v) => Math.max(v, r.outcome.kind === 'ok' ? r.outcome.version : v));
      setConflict(null);
      return true;
    }
    if (r.outcome.kind === 'conflict') setConflict(failureText(r, t));
    else setError(failureText(r, t));
    return false;
  }

  // Keyboard: `a` assigns the ticket to me, Escape goes back to the queue.
  const navigate = useNavigate();
  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    keyHandler.current = (e: KeyboardEvent) => {
      if (isTyping(e) || dialogOpen() || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'a' && commands.has('assign') && ticket.assignee !== user.name) {
        e.preventDefault();
        void exec('assign', { assignee: user.name }).then((ok) => ok && toast(t('ticket.done', { action: t('ticket.assignToMe') })));
      } else if (e.key === 'Escape') {
        e.preventDefault();
        if (window.history.state?.__TSR_index > 0) window.history.back();
        else void navigate({ to: '/tickets', search: {} });
      }
    };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => keyHandler.current(e);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  async function doReload() {
    await refetchTicket(ticket.id, null, true);
    reload();
    setConflict(null);
    setSeenVersion(ticket.version);
  }

  const pastMissing = inPast && asOf.kind === 'past' && pastKnown && !pastLoading && !past;
  const tooHigh = asOf.kind !== 'now' && asOf.version !== null && asOf.version > ticket.version ? asOf.version : null;

  return (
    <div className="h-full overflow-auto">
      <div className="mx-auto max-w-[1400px] px-4 py-3">
        <div className="mb-3 flex flex-wrap items-center gap-3">
          <Link to="/tickets" search={{}} className="text-xs text-muted hover:text-fg">
            ← {t('app.backToQueue')}
          </Link>
        </div>
        <header className="mb-3 flex flex-wrap items-start gap-3">
          <h1 className="flex min-w-0 flex-1 flex-wrap items-baseline gap-x-3 gap-y-1 text-lg font-semibold">
            <span className="font-mono text-accent">{shown.number}</span>
            <span className="min-w-0 break-words">{shown.title}</span>
          </h1>
          <div className="flex items-center gap-2">
            <StatusBadge status={shown.status} />
            <SeverityBadge severity={shown.severity} />
          </div>
        </header>
        <TimeTravel
          key={asOf.kind === 'past' && asOf.at ? asOf.at : 'version'}
          number={ticket.number}
          asOf={asOf}
          latest={ticket.version}
          shown={inPast ? (past?.version ?? asOf.version ?? ticket.version) : ticket.version}
          shownAt={shown.updatedAt}
        />
        {asOf.kind === 'invalid' && (
          <p role="alert" className="mb-3 rounded-md border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
            {t('history.travel.invalidAt', { value: asOf.raw })}
          </p>
        )}
        {tooHigh !== null && (
          <p role="alert" className="mb-3 rounded-md border border-[#6d5a25] bg-[#2a2310] px-3 py-2 text-[0.8125rem] text-[#ffe7a8]">
            {t('history.travel.tooHigh', { version: tooHigh, total: ticket.version })}
          </p>
        )}
        {pastMissing && (
          <p role="alert" className="mb-3 rounded-md border border-[#6d5a25] bg-[#2a2310] px-3 py-2 text-[0.8125rem] text-[#ffe7a8]">
            {pastError
              ? t('history.travel.error', { detail: pastError })
              : t('history.travel.beforeCreation', { date: formatInstant(asOf.kind === 'past' ? asOf.at : null), created: formatInstant(ticket.createdAt) })}
          </p>
        )}
        {asOf.kind === 'past' && !past && !pastMissing && (
          <p role="status" className="mb-3 text-[0.8125rem] text-muted">
            {t('history.travel.loading')}
          </p>
        )}
        {inPast && past && <PastBanner version={past.version} total={ticket.version} at={past.updatedAt} loading={pastLoading} />}
        {!inPast && conflict && (
          <div role="alert" className="mb-3 flex flex-wrap items-center gap-3 rounded-md border border-[#6d5a25] bg-[#2a2310] px-3 py-2 text-[0.8125rem] text-[#ffe7a8]">
            <span>{conflict}</span>
            <button type="button" className="btn btn-sm" onClick={() => void doReload()}>
              {t('ticket.reload')}
            </button>
          </div>
        )}
        {!inPast && error && (
          <p role="alert" className="mb-3 rounded-md border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
            {error}
          </p>
        )}
        {!inPast && liveBy && (
          <p role="status" className="mb-3 text-xs text-muted">
            {t('ticket.liveUpdated', { actor: liveBy })}
          </p>
        )}
        {inPast && past && <DiffWithNow then={past} now={ticket} />}
        {(!inPast || past) && (
          <div className="grid gap-3 lg:grid-cols-[minmax(0,1fr)_22rem]">
            <div className="min-w-0 space-y-3">
              {!inPast && <Actions ticket={ticket} commands={commands} exec={exec} me={user.name} />}
              <Section title={t('ticket.description')}>
                {shown.description ? (
                  <p className="whitespace-pre-wrap break-words text-[0.8125rem] leading-relaxed">{shown.description}</p>
                ) : (
                  <p className="text-[0.8125rem] text-muted">{t('ticket.noDescription')}</p>
                )}
              </Section>
              <Alerts ticket={shown} />
              <Comments ticket={shown} canComment={commands.has('comments')} exec={exec} />
              <Timeline ticketId={ticket.id} number={ticket.number} upTo={timelineUpTo} />
            </div>
            <div className="min-w-0 space-y-3">
              <Details ticket={shown} />
              <Assets ticket={shown} />
              <Observables ticket={shown} canAdd={commands.has('observables')} exec={exec} />
              <Tags ticket={shown} canEdit={commands.has('tags')} exec={exec} onConflict={setConflict} client={client} />
            </div>
          </div>
        )}
      </div>
    </div>
  );
}

type Exec = <K extends TicketCommand>(command: K, body: CommandBodies[K]) => Promise<boolean>;

type FormKind = 'assignTo' | 'hold' | 'resolve' | 'close' | 'reopen' | 'severity' | 'duplicate';

export function Actions({ ticket, commands, exec, me }: { ticket: Ticket; commands: Set<TicketCommand>; exec: Exec; me: string }) {
  const { t } = useTranslation();
  const id = useId();
  const [form, setForm] = useState<FormKind | null>(null);
  const [busy, setBusy] = useState(false);
  const [assignee, setAssignee] = useState('');
  const [reason, setReason] = useState('');
  const [resolution, setResolution] = useState<Resolution>('TRUE_POSITIVE');
  const [summary, setSummary] = useState('');
  const [severity, setSeverity] = useState<Severity>(ticket.severity);
  const [of, setOf] = useState('');
  const [users] = useQuery({ query: AssignableUsersQuery, pause: !commands.has('assign') });

  const act = async (f: () => Promise<boolean>, label: string) => {
    setBusy(true);
    const ok = await f();
    setBusy(false);
    if (ok) {
      toast(t('ticket.done', { action: label }));
      setForm(null);
      setReason('');
      setSummary('');
      setOf('');
    }
  };

  const btn = (label: string, onClick: () => void, primary = false) => (
    <button type="button" className={`btn ${primary ? 'btn-primary' : ''}`} disabled={busy} onClick={onClick}>
      {label}
    </button>
  );

  const any = [...commands].some((c) => !['comments', 'tags', 'observables'].includes(c));
  const titles: Record<FormKind, string> = {
    assignTo: t('ticket.assignTo'),
    hold: t('ticket.hold'),
    resolve: t('ticket.resolve'),
    close: t('ticket.close'),
    reopen: t('ticket.reopen'),
    severity: t('ticket.changeSeverity'),
    duplicate: t('ticket.duplicate'),
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    const label = titles[form];
    if (form === 'assignTo') await act(() => exec('assign', { assignee }), label);
    else if (form === 'hold') await act(() => exec('hold', { reason }), label);
    else if (form === 'resolve') await act(() => exec('resolve', { resolution, summary }), label);
    else if (form === 'close') await act(() => exec('close', reason ? { note: reason } : {}), label);
    else if (form === 'reopen') await act(() => exec('reopen', { reason }), label);
    else if (form === 'severity') await act(() => exec('severity', { severity, reason }), label);
    else if (form === 'duplicate') await act(() => exec('duplicate', { of: of.trim().toUpperCase(), summary }), label);
  }

  return (
    <Section title={t('ticket.actions')}>
      {!any ? (
        <p className="text-[0.8125rem] text-muted">{t('ticket.noActions')}</p>
      ) : (
        <div role="toolbar" aria-label={t('ticket.actions')} className="flex flex-wrap gap-2">
          {commands.has('assign') && ticket.assignee !== me && btn(t('ticket.assignToMe'), () => void act(() => exec('assign', { assignee: me }), t('ticket.assignToMe')), true)}
          {commands.has('assign') && btn(t('ticket.assignTo'), () => setForm('assignTo'))}
          {commands.has('unassign') && ticket.assignee && btn(t('ticket.unassign'), () => void act(() => exec('unassign', {}), t('ticket.unassign')))}
          {commands.has('start') && btn(t('ticket.start'), () => void act(() => exec('start', {}), t('ticket.start')), true)}
          {commands.has('hold') && btn(t('ticket.hold'), () => setForm('hold'))}
          {commands.has('resume') && btn(t('ticket.resume'), () => void act(() => exec('resume', {}), t('ticket.resume')), true)}
          {commands.has('resolve') && btn(t('ticket.resolve'), () => setForm('resolve'))}
          {commands.has('duplicate') && btn(t('ticket.duplicate'), () => setForm('duplicate'))}
          {commands.has('close') && btn(t('ticket.close'), () => setForm('close'))}
          {commands.has('reopen') && btn(t('ticket.reopen'), () => setForm('reopen'))}
          {commands.has('severity') && btn(t('ticket.changeSeverity'), () => setForm('severity'))}
        </div>
      )}
      <Dialog open={form !== null} onClose={() => setForm(null)} title={form ? `${titles[form]} · ${ticket.number}` : ''}>
        <form onSubmit={submit} className="space-y-3">
          {form === 'assignTo' && (
            <div>
              <label className="label" htmlFor={`${id}-a`}>
                {t('ticket.assignee')}
              </label>
              <select id={`${id}-a`} className="input w-full" required value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                <option value="" />
                {(users.data?.users ?? []).map((u) => (
                  <option key={u.username} value={u.username}>
                    {u.displayName || u.username} ({t(`role.${u.role}`)})
                  </option>
                ))}
              </select>
            </div>
          )}
          {form === 'severity' && (
            <div>
              <label className="label" htmlFor={`${id}-s`}>
                {t('queue.severity')}
              </label>
              <select id={`${id}-s`} className="input w-full" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {t(`severity.${s}`)}
                  </option>
                ))}
              </select>
            </div>
          )}
          {form === 'resolve' && (
            <div>
              <label className="label" htmlFor={`${id}-r`}>
                {t('ticket.resolutionLabel')}
              </label>
              <select id={`${id}-r`} className="input w-full" value={resolution} onChange={(e) => setResolution(e.target.value as Resolution)}>
                {(['TRUE_POSITIVE', 'FALSE_POSITIVE', 'BENIGN'] as const).map((r) => (
                  <option key={r} value={r}>
                    {t(`resolution.${r}`)}
                  </option>
                ))}
              </select>
            </div>
          )}
          {form === 'duplicate' && (
            <div>
              <label className="label" htmlFor={`${id}-of`}>
                {t('ticket.duplicateOf')}
              </label>
              <input
                id={`${id}-of`}
                className="input w-full font-mono"
                required
                pattern="[Ss][Oo][Cc]-[0-9]+"
                placeholder="SOC-123"
                value={of}
                onChange={(e) => setOf(e.target.value)}
              />
            </div>
          )}
          {(form === 'hold' || form === 'reopen' || form === 'severity' || form === 'close') && (
            <div>
              <label className="label" htmlFor={`${id}-reason`}>
                {form === 'close' ? t('ticket.note') : t('ticket.reason')}
              </label>
              <input id={`${id}-reason`} className="input w-full" required={form !== 'close'} maxLength={200} value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
          )}
          {(form === 'resolve' || form === 'duplicate') && (
            <div>
              <label className="label" htmlFor={`${id}-sum`}>
                {t('ticket.summary')}
              </label>
              <textarea id={`${id}-sum`} className="input w-full" rows={4} value={summary} onChange={(e) => setSummary(e.target.value)} />
            </div>
          )}
          <div className="flex justify-end gap-2">
            <button type="button" className="btn" onClick={() => setForm(null)}>
              {t('ticket.cancel')}
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {form ? titles[form] : t('ticket.confirm')}
            </button>
          </div>
        </form>
      </Dialog>
    </Section>
  );
}

function Details({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const f = (k: string) => t(`ticket.fields.${k}`);
  return (
    <Section title={t('ticket.details')}>
      <dl>
        <Field label={f('status')}>
          <StatusBadge status={ticket.status} />
        </Field>
        <Field label={f('severity')}>
          <SeverityBadge severity={ticket.severity} />
        </Field>
        <Field label={f('assignee')}>{ticket.assigneeName ?? ticket.assignee ?? <span className="text-muted">{t('ticket.nobody')}</span>}</Field>
        <Field label={f('source')}>{t(`source.${ticket.source}`)}</Field>
        <Field label={f('sourceIp')}>
          {ticket.sourceIp ? <PivotLink value={ticket.sourceIp} /> : '—'}
        </Field>
        <Field label={f('destinationIp')}>
          {ticket.destinationIp ? <PivotLink value={ticket.destinationIp} /> : '—'}
        </Field>
        <Field label={f('rule')}>{ticket.ruleName ?? '—'}</Field>
        <Field label={f('vendor')}>{ticket.vendor ?? '—'}</Field>
        <Field label={f('fingerprint')}>
          <span className="font-mono text-xs">{ticket.fingerprint ?? '—'}</span>
        </Field>
        <Field label={f('alertCount')}>{ticket.alertCount}</Field>
        <Field label={f('firstSeen')}>{formatDateTime(ticket.firstSeen)}</Field>
        <Field label={f('lastSeen')}>{formatDateTime(ticket.lastSeen)}</Field>
        <Field label={f('created')}>{formatDateTime(ticket.createdAt)}</Field>
        <Field label={f('updated')}>{formatDateTime(ticket.updatedAt)}</Field>
        <Field label={f('acknowledged')}>{formatDateTime(ticket.acknowledgedAt)}</Field>
        <Field label={f('resolved')}>{formatDateTime(ticket.resolvedAt)}</Field>
        {ticket.resolution && <Field label={f('resolution')}>{t(`resolution.${ticket.resolution}`)}</Field>}
        {ticket.resolutionSummary && <Field label={f('resolutionSummary')}>{ticket.resolutionSummary}</Field>}
        {ticket.duplicateOf && (
          <Field label={f('duplicateOf')}>
            <DuplicateLink id={ticket.duplicateOf} />
          </Field>
        )}
        <Field label={f('version')}>{ticket.version}</Field>
      </dl>
    </Section>
  );
}

function DuplicateLink({ id }: { id: string }) {
  const [r] = useQuery({ query: TicketByIdQuery, variables: { id } });
  const n = r.data?.ticket?.number;
  return n ? (
    <Link to="/tickets/$number" params={{ number: n }}>
      {n}
    </Link>
  ) : (
    <span className="font-mono text-xs">{id}</span>
  );
}

function PivotLink({ value }: { value: string }) {
  const { t } = useTranslation();
  return (
    <Link to="/tickets" search={{ observable: value }} className="font-mono text-xs" title={t('ticket.pivot', { value })} aria-label={t('ticket.pivot', { value })}>
      {value}
    </Link>
  );
}

function AssetCard({ ip, title }: { ip: string | null; title: string }) {
  const { t } = useTranslation();
  const [r] = useQuery({ query: AssetForQuery, variables: { ip: ip ?? '' }, pause: !ip });
  const a = r.data?.assetFor;
  return (
    <div className="rounded-md border border-line bg-panel-2 p-2">
      <h3 className="mb-1 text-xs font-semibold">
        {title} {ip && <span className="font-mono font-normal text-muted">{ip}</span>}
      </h3>
      {!ip || (!r.fetching && !a) ? (
        <p className="text-xs text-muted">{t('ticket.noAsset')}</p>
      ) : a ? (
        <dl>
          <Field label={t('ticket.assetFields.hostname')}>{a.hostname ?? '—'}</Field>
          <Field label={t('ticket.assetFields.network')}>
            <span className="font-mono text-xs">{a.network}</span>
          </Field>
          <Field label={t('ticket.assetFields.owner')}>{a.owner ?? '—'}</Field>
          <Field label={t('ticket.assetFields.businessUnit')}>{a.businessUnit ?? '—'}</Field>
          <Field label={t('ticket.assetFields.criticality')}>{t(`ticket.criticality.${a.criticality}`)}</Field>
        </dl>
      ) : (
        <p className="text-xs text-muted">{t('app.loading')}</p>
      )}
    </div>
  );
}

function Assets({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  return (
    <Section title={t('ticket.assets')}>
      <div className="space-y-2">
        <AssetCard ip={ticket.sourceIp} title={t('ticket.sourceAsset')} />
        <AssetCard ip={ticket.destinationIp} title={t('ticket.destinationAsset')} />
      </div>
    </Section>
  );
}

function Alerts({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const [raw, setRaw] = useState(false);
  const [samples] = useQuery({ query: AlertSamplesQuery, variables: { id: ticket.id }, pause: !raw });
  const bySeq = new Map((samples.data?.ticket?.alerts ?? []).map((a) => [a.sequence, a.samples]));
  return (
    <Section
      title={`${t('ticket.alerts')} (${ticket.alertCount})`}
      actions={
        ticket.alerts.length > 0 && (
          <button type="button" className="btn btn-sm" aria-expanded={raw} onClick={() => setRaw(!raw)}>
            {raw ? t('ticket.hideRaw') : t('ticket.showRaw')}
          </button>
        )
      }
    >
      {ticket.alerts.length === 0 ? (
        <p className="text-[0.8125rem] text-muted">{t('ticket.noAlerts')}</p>
      ) : (
        <table className="w-full text-left text-[0.8125rem]">
          <caption className="sr-only">{t('ticket.alerts')}</caption>
          <thead className="text-xs text-muted">
            <tr>
              <th scope="col" className="py-1 pr-3 font-medium">{t('ticket.alertCols.kind')}</th>
              <th scope="col" className="py-1 pr-3 font-medium">{t('ticket.alertCols.count')}</th>
              <th scope="col" className="py-1 pr-3 font-medium">{t('ticket.alertCols.firstSeen')}</th>
              <th scope="col" className="py-1 pr-3 font-medium">{t('ticket.alertCols.lastSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {ticket.alerts.map((a) => (
              <tr key={a.sequence} className="border-t border-line align-top">
                <td className="py-1 pr-2">
                  {t(`ticket.alertKind.${a.kind}`, { defaultValue: a.kind })}
                  {raw && (
                    <div className="mt-1">
                      {samples.fetching && !bySeq.has(a.sequence) ? (
                        <span className="text-xs text-muted">{t('ticket.rawLoading')}</span>
                      ) : (bySeq.get(a.sequence) ?? []).length === 0 ? (
                        <span className="text-xs text-muted">{t('ticket.noRaw')}</span>
                      ) : (
                        (bySeq.get(a.sequence) ?? []).map((s, i) => (
                          <pre key={i} className="mt-1 max-h-40 overflow-auto whitespace-pre-wrap break-all rounded bg-bg p-2 font-mono text-[0.7rem] text-muted">
                            {s}
                          </pre>
                        ))
                      )}
                    </div>
                  )}
                </td>
                <td className="py-1 pr-2 tabular-nums">{a.count}</td>
                <td className="py-1 pr-2 text-muted">{formatDateTime(a.firstSeen)}</td>
                <td className="py-1 text-muted">{formatDateTime(a.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

const KINDS: ObservableKind[] = ['IP', 'DOMAIN', 'URL', 'FILE_HASH', 'USER_ACCOUNT'];

function Observables({ ticket, canAdd, exec }: { ticket: Ticket; canAdd: boolean; exec: Exec }) {
  const { t } = useTranslation();
  const id = useId();
  const [kind, setKind] = useState<ObservableKind>('IP');
  const [value, setValue] = useState('');
  const [invalid, setInvalid] = useState(false);
  async function add(e: FormEvent) {
    e.preventDefault();
    if (!validObservable(kind, value)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    if (await exec('observables', { kind, value: value.trim() })) setValue('');
  }
  return (
    <Section title={t('ticket.observables')}>
      {ticket.observables.length === 0 ? (
        <p className="text-[0.8125rem] text-muted">{t('ticket.noObservables')}</p>
      ) : (
        <ul className="space-y-1">
          {ticket.observables.map((o) => (
            <li key={`${o.kind}:${o.value}`} className="flex items-center gap-2 text-[0.8125rem]">
              <span className="chip w-24 justify-center text-muted">{t(`observableKind.${o.kind}`)}</span>
              <PivotLink value={o.value} />
            </li>
          ))}
        </ul>
      )}
      {canAdd && (
        <form onSubmit={add} className="mt-3 space-y-2" noValidate>
          <div className="flex gap-2">
            <div className="w-32">
              <label className="label" htmlFor={`${id}-k`}>
                {t('ticket.observableType')}
              </label>
              <select id={`${id}-k`} className="input w-full" value={kind} onChange={(e) => setKind(e.target.value as ObservableKind)}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`observableKind.${k}`)}
                  </option>
                ))}
              </select>
            </div>
            <div className="min-w-0 flex-1">
              <label className="label" htmlFor={`${id}-v`}>
                {t('ticket.observableValue')}
              </label>
              <input
                id={`${id}-v`}
                className="input w-full font-mono"
                value={value}
                aria-invalid={invalid}
                aria-describedby={invalid ? `${id}-err` : undefined}
                onChange={(e) => {
                  setValue(e.target.value);
                  setInvalid(false);
                }}
              />
            </div>
          </div>
          {invalid && (
            <p id={`${id}-err`} role="alert" className="text-xs text-danger">
              {t(`ticket.invalidObservable.${kind}`)}
            </p>
          )}
          <button type="submit" className="btn btn-sm">
            {t('ticket.addObservable')}
          </button>
        </form>
      )}
    </Section>
  );
}

function Tags({
  ticket,
  canEdit,
  exec,
  onConflict,
}: {
  ticket: Ticket;
  canEdit: boolean;
  exec: Exec;
  onConflict: (s: string) => void;
  client: unknown;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [tag, setTag] = useState('');
  const navigate = useNavigate();
  async function remove(name: string) {
    const o = await removeTag(ticket.id, name, ticket.version);
    if (o.kind === 'ok') await refetchTicket(ticket.id, o.position, true);
    else if (o.kind === 'conflict') onConflict(failureText({ outcome: o, conflict: await lastChange(ticket.id) }, t));
    else toast(failureText({ outcome: o }, t), 'error');
  }
  return (
    <Section title={t('ticket.tags')}>
      {ticket.tags.length === 0 ? (
        <p className="text-[0.8125rem] text-muted">{t('ticket.noTags')}</p>
      ) : (
        <ul className="flex flex-wrap gap-1">
          {ticket.tags.map((tg) => (
            <li key={tg} className="chip gap-1">
              <button type="button" className="hover:underline" onClick={() => void navigate({ to: '/tickets', search: { tag: tg } })}>
                {tg}
              </button>
              {canEdit && (
                <button type="button" className="text-muted hover:text-fg" aria-label={t('ticket.removeTag', { tag: tg })} onClick={() => void remove(tg)}>
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canEdit && (
        <form
          className="mt-3 flex items-end gap-2"
          onSubmit={async (e) => {
            e.preventDefault();
            if (tag.trim() && (await exec('tags', { tags: [tag.trim()] }))) setTag('');
          }}
        >
          <div className="min-w-0 flex-1">
            <label className="label" htmlFor={`${id}-t`}>
              {t('ticket.newTag')}
            </label>
            <input id={`${id}-t`} className="input w-full" value={tag} maxLength={64} onChange={(e) => setTag(e.target.value)} />
          </div>
          <button type="submit" className="btn btn-sm">
            {t('ticket.addTag')}
          </button>
        </form>
      )}
    </Section>
  );
}

// A long ticket has thousands of comments: the newest page is shown, older
// ones a page more at a time.
const COMMENTS_PAGE = 50;
/** The newest comments a ticket page loads (documents.ts: TicketDetail). */
const COMMENTS_LOADED = 500;

const CommentItem = memo(function CommentItem({ comment }: { comment: Ticket['comments'][number] }) {
  return (
    <li className="rounded-md border border-line bg-panel-2 p-2">
      <div className="mb-1 flex gap-2 text-xs text-muted">
        <span className="font-medium text-fg">{comment.author}</span>
        <time dateTime={comment.at}>{formatDateTime(comment.at)}</time>
      </div>
      <Markdown source={comment.body} />
    </li>
  );
});

function Comments({ ticket, canComment, exec }: { ticket: Ticket; canComment: boolean; exec: Exec }) {
  const { t } = useTranslation();
  const id = useId();
  const [body, setBody] = useState('');
  const [preview, setPreview] = useState(false);
  const [limit, setLimit] = useState(COMMENTS_PAGE);
  const loaded = ticket.comments.length;
  const total = Math.max(ticket.commentCount, loaded);
  const first = Math.max(0, loaded - limit);
  const visible = useMemo(() => ticket.comments.slice(first), [ticket.comments, first]);
  const hidden = first;
  // Older than the newest COMMENTS_LOADED: in the history (the timeline, the export).
  const notLoaded = total - loaded;
  return (
    <Section title={`${t('ticket.comments')} (${total})`}>
      {total === 0 ? (
        <p className="text-[0.8125rem] text-muted">{t('ticket.noComments')}</p>
      ) : (
        <>
          {hidden === 0 && notLoaded > 0 && (
            <p className="mb-3 text-xs text-muted">{t('ticket.olderCommentsInHistory', { count: notLoaded, shown: loaded, total })}</p>
          )}
          {hidden > 0 && (
            <div className="mb-3 flex flex-wrap items-center gap-3 text-xs text-muted">
              <p id={`${id}-shown`}>{t('ticket.commentsShown', { shown: visible.length, total })}</p>
              <button
                type="button"
                className="btn btn-sm"
                aria-describedby={`${id}-shown`}
                onClick={() => setLimit((l) => l + COMMENTS_PAGE)}
              >
                {t('ticket.showMoreComments', { count: Math.min(COMMENTS_PAGE, hidden) })}
              </button>
            </div>
          )}
          <ol className="space-y-3">
            {visible.map((c, i) => (
              <CommentItem key={c.id ?? `#${first + i}`} comment={c} />
            ))}
          </ol>
        </>
      )}
      {canComment && (
        <form
          className="mt-3 space-y-2"
          onSubmit={async (e) => {
            e.preventDefault();
            if (body.trim() && (await exec('comments', { body }))) {
              setBody('');
              setPreview(false);
            }
          }}
        >
          <label className="label" htmlFor={`${id}-c`}>
            {t('ticket.newComment')}
          </label>
          <textarea id={`${id}-c`} className="input w-full" rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
          {preview && body && (
            <div className="rounded-md border border-dashed border-line-strong p-2">
              <Markdown source={body} />
            </div>
          )}
          <div className="flex gap-2">
            <button type="submit" className="btn btn-primary btn-sm">
              {t('ticket.addComment')}
            </button>
            <button type="button" className="btn btn-sm" aria-pressed={preview} onClick={() => setPreview(!preview)}>
              {t('ticket.preview')}
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}
