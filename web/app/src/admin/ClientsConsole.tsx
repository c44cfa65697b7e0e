// Integration clients (client_credentials): list, create, enable/disable,
// rotate the secret. A secret is shown once, in the dialog that received it;
// closing the dialog forgets it. The server accepts only the integration role.
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../ui/Dialog';
import { formatDateTime } from '../ui/format';
import { toast } from '../ui/toast';
import { ConsoleGate } from './AdminLayout';
import {
  clientAudit,
  createClient,
  listClients,
  rotateSecret,
  setClientEnabled,
  type AdminProblem,
  type ClientCreated,
  type ClientView,
} from './api';
import { AuditTable } from './audit';
import { ConfirmDialog, ConsoleHeader, CopyButton, ProblemAlert, Th, tableClass, tdClass, useLoad, useProblemText } from './ui';

export function ClientsConsole() {
  return (
    <ConsoleGate console="clients">
      <Clients />
    </ConsoleGate>
  );
}

type Open = { kind: 'create' } | { kind: 'rotate'; client: ClientView } | { kind: 'audit'; client: ClientView } | null;

function Clients() {
  const { t } = useTranslation();
  const { data: clients, problem, reload } = useLoad(listClients);
  const [open, setOpen] = useState<Open>(null);
  const [secret, setSecret] = useState<{ created: ClientCreated; rotated: boolean } | null>(null);
  const [rowProblem, setRowProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const text = useProblemText();

  async function toggle(c: ClientView) {
    const r = await setClientEnabled(c.client_id, !c.enabled);
    if (r.ok) {
      setRowProblem(null);
      toast(t(r.data.enabled ? 'adminConsole.clients.enabledToast' : 'adminConsole.clients.disabledToast', { name: c.name }));
      reload();
    } else {
      setRowProblem(r.problem);
      toast(text(r.problem), 'error');
    }
  }

  async function rotate(c: ClientView) {
    setBusy(true);
    const r = await rotateSecret(c.client_id);
    setBusy(false);
    if (r.ok) {
      setOpen(null);
      setRowProblem(null);
      setSecret({ created: r.data, rotated: true });
      reload();
    } else setRowProblem(r.problem);
  }

  return (
    <div>
      <ConsoleHeader title={t('adminConsole.clients.title')}>
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setOpen({ kind: 'create' })}>
          {t('adminConsole.clients.create')}
        </button>
      </ConsoleHeader>
      <div className="space-y-2 p-3">
        <ProblemAlert problem={problem ?? (open?.kind === 'rotate' ? null : rowProblem)} />
        {!clients && !problem && <p role="status">{t('app.loading')}</p>}
        {clients && clients.length === 0 && <p className="text-[0.8125rem] text-muted">{t('adminConsole.clients.empty')}</p>}
        {clients && clients.length > 0 && (
          <table className={tableClass}>
            <caption className="sr-only">{t('adminConsole.clients.title')}</caption>
            <thead>
              <tr>
                <Th>{t('adminConsole.clients.name')}</Th>
                <Th>{t('adminConsole.clients.clientId')}</Th>
                <Th>{t('adminConsole.users.role')}</Th>
                <Th>{t('adminConsole.users.state')}</Th>
                <Th>{t('adminConsole.clients.createdBy')}</Th>
                <Th>{t('adminConsole.clients.tokensValidAfter')}</Th>
                <Th>
                  <span className="sr-only">{t('adminConsole.actions')}</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.client_id} className={c.enabled ? '' : 'text-muted'}>
                  <td className={tdClass}>{c.name}</td>
                  <td className={`${tdClass} font-mono`}>{c.client_id}</td>
                  <td className={tdClass}>{t(`role.${c.role}`, { defaultValue: c.role })}</td>
                  <td className={tdClass}>
                    <span className={`chip ${c.enabled ? '!text-ok' : '!text-danger'}`}>
                      {c.enabled ? t('adminConsole.enabled') : t('adminConsole.disabled')}
                    </span>
                  </td>
                  <td className={tdClass}>
                    {c.created_by} · <span className="tabular-nums">{formatDateTime(c.created_at)}</span>
                  </td>
                  <td className={`${tdClass} tabular-nums`}>{c.tokens_valid_after ? formatDateTime(c.tokens_valid_after) : '—'}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <div className="flex justify-end gap-1">
                      <button type="button" className={`btn btn-sm ${c.enabled ? 'btn-danger' : ''}`} onClick={() => void toggle(c)}>
                        {c.enabled ? t('adminConsole.disable') : t('adminConsole.enable')}
                        <span className="sr-only"> {c.name}</span>
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'rotate', client: c })}>
                        {t('adminConsole.clients.rotate')}
                        <span className="sr-only"> {c.name}</span>
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'audit', client: c })}>
                        {t('adminConsole.audit.open')}
                        <span className="sr-only"> {c.name}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <CreateClientDialog
        open={open?.kind === 'create'}
        onClose={() => setOpen(null)}
        onCreated={(created) => {
          setOpen(null);
          setSecret({ created, rotated: false });
          reload();
        }}
      />
      <ConfirmDialog
        open={open?.kind === 'rotate'}
        title={t('adminConsole.clients.rotateTitle', { name: open?.kind === 'rotate' ? open.client.name : '' })}
        body={t('adminConsole.clients.rotateBody')}
        confirm={t('adminConsole.clients.rotateConfirm')}
        busy={busy}
        problem={open?.kind === 'rotate' ? rowProblem : null}
        onConfirm={() => open?.kind === 'rotate' && void rotate(open.client)}
        onClose={() => {
          setRowProblem(null);
          setOpen(null);
        }}
      />
      {open?.kind === 'audit' && <ClientAuditDialog client={open.client} onClose={() => setOpen(null)} />}
      <SecretDialog value={secret} onClose={() => setSecret(null)} />
    </div>
  );
}

function CreateClientDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (c: ClientCreated) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);
  function close() {
    setName('');
    setProblem(null);
    onClose();
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setProblem({ status: 422, field: 'name', detail: t('adminConsole.clients.nameRequired') });
    setBusy(true);
    const r = await createClient(name.trim());
    setBusy(false);
    if (r.ok) {
      setName('');
      setProblem(null);
      onCreated(r.data);
    } else setProblem(r.problem);
  }
  return (
    <Dialog open={open} onClose={close} title={t('adminConsole.clients.createTitle')}>
      <form className="space-y-3" onSubmit={(e) => void submit(e)} noValidate>
        <div>
          <label className="label" htmlFor={`${id}-n`}>
            {t('adminConsole.clients.name')}
          </label>
          <input
            id={`${id}-n`}
            className="input w-full"
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={problem?.field === 'name' || undefined}
          />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-r`}>
            {t('adminConsole.users.role')}
          </label>
          <select id={`${id}-r`} className="input w-full" value="integration" aria-describedby={`${id}-rh`} onChange={() => {}}>
            <option value="integration">{t('role.integration')}</option>
          </select>
          <p id={`${id}-rh`} className="mt-1 text-xs text-muted">
            {t('adminConsole.clients.roleHint')}
          </p>
        </div>
        <ProblemAlert problem={problem} />
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={close}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('adminConsole.clients.createSubmit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The secret, this once. Closing the dialog drops it from memory. */
function SecretDialog({ value, onClose }: { value: { created: ClientCreated; rotated: boolean } | null; onClose: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <Dialog
      open={value !== null}
      onClose={onClose}
      title={value?.rotated ? t('adminConsole.clients.rotatedTitle') : t('adminConsole.clients.createdTitle')}
      wide
    >
      {value && (
        <div className="space-y-3 text-[0.8125rem]">
          <p role="alert" className="rounded border border-[#7a5a1f] bg-[#2a2110] px-3 py-2 text-[#ffe2a8]">
            {t('adminConsole.clients.onceWarning')}
          </p>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-3 gap-y-2">
            <dt className="label !mb-0 self-center">{t('adminConsole.clients.clientId')}</dt>
            <dd className="font-mono" data-testid="client-id">
              {value.created.client_id}
            </dd>
            <dt className="label !mb-0 self-center" id={`${id}-s`}>
              {t('adminConsole.clients.secret')}
            </dt>
            <dd className="flex flex-wrap items-center gap-2">
              <code aria-labelledby={`${id}-s`} className="select-all break-all rounded bg-panel-2 px-2 py-1 font-mono" data-testid="client-secret">
                {value.created.client_secret}
              </code>
              <CopyButton text={value.created.client_secret} label={t('adminConsole.clients.copySecret')} />
            </dd>
          </dl>
          <div className="flex justify-end">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              {t('adminConsole.clients.savedIt')}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

function ClientAuditDialog({ client, onClose }: { client: ClientView; onClose: () => void }) {
  const { t } = useTranslation();
  const [load] = useState(() => () => clientAudit(client.client_id));
  const { data, problem } = useLoad(load);
  return (
    <Dialog open onClose={onClose} title={t('adminConsole.audit.clientTitle', { name: client.name })} wide>
      <div className="max-h-[60vh] space-y-3 overflow-auto">
        <ProblemAlert problem={problem} />
        {data ? <AuditTable entries={data} /> : !problem && <p role="status">{t('app.loading')}</p>}
      </div>
      <div className="mt-3 flex justify-end">
        <button type="button" className="btn" onClick={onClose}>
          {t('adminConsole.close')}
        </button>
      </div>
    </Dialog>
  );
}
