// Bulk actions on the selection: each ticket gets its own command (with its
// own If-Match) and its own result line; one refusal hides nothing else.
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import type { CommandBodies } from '../api/rest';
import { anyPermits, type Action, type Role } from '../auth/permissions';
import type { QueueRowFragment, Resolution, Severity } from '../gql/graphql';
import { AssignableUsersQuery } from '../graphql/documents';
import { failureText, run } from '../ticket/commands';
import { Dialog } from '../ui/Dialog';
import { SEVERITIES } from './search';

type BulkKind = 'assign' | 'severity' | 'resolve' | 'close' | 'tag';
const NEEDS: Record<BulkKind, Action> = {
  assign: 'AssignTicket',
  severity: 'ChangeSeverity',
  resolve: 'ResolveTicket',
  close: 'CloseTicket',
  tag: 'AnnotateTicket',
};

interface Line {
  number: string;
  ok: boolean;
  text: string;
}

export function BulkBar({
  rows,
  roles,
  me,
  onClear,
}: {
  rows: QueueRowFragment[];
  roles: readonly Role[];
  me: string;
  onClear: () => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [kind, setKind] = useState<BulkKind | null>(null);
  const [busy, setBusy] = useState(false);
  const [lines, setLines] = useState<Line[] | null>(null);
  const [assignee, setAssignee] = useState(me);
  const [severity, setSeverity] = useState<Severity>('HIGH');
  const [reason, setReason] = useState('');
  const [resolution, setResolution] = useState<Resolution>('FALSE_POSITIVE');
  const [summary, setSummary] = useState('');
  const [tag, setTag] = useState('');
  const [users] = useQuery({ query: AssignableUsersQuery });

  async function apply(e: FormEvent) {
    e.preventDefault();
    if (!kind) return;
    const targets = rows.slice();
    setBusy(true);
    const out: Line[] = [];
    const one = async (r: QueueRowFragment) => {
      let res;
      if (kind === 'assign') res = await run(r.id, 'assign', { assignee } satisfies CommandBodies['assign'], r.version);
      else if (kind === 'severity') res = await run(r.id, 'severity', { severity, reason }, r.version);
      else if (kind === 'resolve') res = await run(r.id, 'resolve', { resolution, summary }, r.version);
      else if (kind === 'close') res = await run(r.id, 'close', {}, r.version);
      else res = await run(r.id, 'tags', { tags: [tag.trim()] }, r.version);
      out.push({ number: r.number, ok: res.outcome.kind === 'ok', text: res.outcome.kind === 'ok' ? t('bulk.ok') : failureText(res, t) });
    };
    // A few at a time: commands per ticket are independent.
    const queue = targets.slice();
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await one(r);
      }),
    );
    out.sort((a, b) => a.number.localeCompare(b.number, undefined, { numeric: true }));
    setBusy(false);
    setKind(null);
    setLines(out);
  }

  const allowed = (Object.keys(NEEDS) as BulkKind[]).filter((k) => anyPermits(roles, NEEDS[k]));
  const label: Record<BulkKind, string> = {
    assign: t('bulk.assign'),
    severity: t('bulk.severity'),
    resolve: t('bulk.resolve'),
    close: t('bulk.close'),
    tag: t('bulk.tag'),
  };

  return (
    <>
      {rows.length > 0 && (
        <div role="toolbar" aria-label={t('bulk.title')} className="flex flex-wrap items-center gap-2 border-b border-line bg-[#132036] px-3 py-1.5">
          <span className="text-[0.8125rem] font-medium">{t('queue.selected', { count: rows.length })}</span>
          {allowed.map((k) => (
            <button key={k} type="button" className="btn btn-sm" onClick={() => setKind(k)}>
              {label[k]}
            </button>
          ))}
          <button type="button" className="btn btn-ghost btn-sm ml-auto" onClick={onClear}>
            {t('queue.clearSelection')}
          </button>
        </div>
      )}
      {lines && (
        <section aria-label={t('bulk.results')} className="border-b border-line bg-panel px-3 py-2">
          <div className="mb-1 flex items-center gap-3">
            <h2 className="text-xs font-semibold uppercase tracking-wide text-muted">{t('bulk.results')}</h2>
            <span role="status" className="text-xs">
              {t('bulk.done', { ok: lines.filter((l) => l.ok).length, total: lines.length })}
            </span>
            <button type="button" className="btn btn-ghost btn-sm ml-auto" onClick={() => setLines(null)}>
              {t('bulk.dismiss')}
            </button>
          </div>
          <ul className="max-h-32 overflow-auto text-[0.8125rem]">
            {lines.map((l) => (
              <li key={l.number} className="flex gap-2">
                <span className="w-20 font-mono text-accent">{l.number}</span>
                <span className={l.ok ? 'text-ok' : 'text-danger'}>{l.text}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <Dialog open={kind !== null} onClose={() => setKind(null)} title={kind ? `${label[kind]} (${rows.length})` : ''}>
        <form onSubmit={apply} className="space-y-3">
          {kind === 'assign' && (
            <div>
              <label className="label" htmlFor={`${id}-a`}>
                {t('ticket.assignee')}
              </label>
              <select id={`${id}-a`} className="input w-full" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                <option value={me}>{t('queue.me')} ({me})</option>
                {(users.data?.users ?? [])
                  .filter((u) => u.username !== me)
                  .map((u) => (
                    <option key={u.username} value={u.username}>
                      {u.displayName || u.username}
                    </option>
                  ))}
              </select>
            </div>
          )}
          {kind === 'severity' && (
            <>
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
              <div>
                <label className="label" htmlFor={`${id}-r`}>
                  {t('bulk.reason')}
                </label>
                <input id={`${id}-r`} className="input w-full" required value={reason} onChange={(e) => setReason(e.target.value)} />
              </div>
            </>
          )}
          {kind === 'resolve' && (
            <>
              <div>
                <label className="label" htmlFor={`${id}-res`}>
                  {t('ticket.resolutionLabel')}
                </label>
                <select id={`${id}-res`} className="input w-full" value={resolution} onChange={(e) => setResolution(e.target.value as Resolution)}>
                  {(['TRUE_POSITIVE', 'FALSE_POSITIVE', 'BENIGN'] as const).map((r) => (
                    <option key={r} value={r}>
                      {t(`resolution.${r}`)}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label className="label" htmlFor={`${id}-sum`}>
                  {t('ticket.summary')}
                </label>
                <textarea id={`${id}-sum`} className="input w-full" rows={3} value={summary} onChange={(e) => setSummary(e.target.value)} />
              </div>
            </>
          )}
          {kind === 'tag' && (
            <div>
              <label className="label" htmlFor={`${id}-t`}>
                {t('bulk.tagValue')}
              </label>
              <input id={`${id}-t`} className="input w-full" required value={tag} onChange={(e) => setTag(e.target.value)} />
            </div>
          )}
          <div className="flex justify-end gap-2">
            <button type="button" className="btn" onClick={() => setKind(null)}>
              {t('ticket.cancel')}
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {t('bulk.apply')}
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
