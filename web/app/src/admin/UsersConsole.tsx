// Users: list, create, change role, enable/disable, reset the password, and
// each user's audit trail (GET /api/v1/admin/users/{username}/audit).
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role } from '../auth/permissions';
import { useUser } from '../auth/useSession';
import { Dialog } from '../ui/Dialog';
import { formatDateTime } from '../ui/format';
import { toast } from '../ui/toast';
import { ConsoleGate } from './AdminLayout';
import { createUser, listUsers, resetPassword, updateUser, userAudit, type AdminProblem, type AuditEntry, type UserView } from './api';
import { AuditTable } from './audit';
import { ConsoleHeader, ProblemAlert, Th, tableClass, tdClass, useLoad, useProblemText } from './ui';

/** The roles a person can have (`integration` is for clients). */
export const PERSON_ROLES: Role[] = ['analyst', 'lead', 'auditor', 'admin'];
const MIN_PASSWORD = 12;

export function UsersConsole() {
  return (
    <ConsoleGate console="users">
      <Users />
    </ConsoleGate>
  );
}

type Open =
  | { kind: 'create' }
  | { kind: 'role'; user: UserView }
  | { kind: 'password'; user: UserView }
  | { kind: 'audit'; user: UserView }
  | null;

function Users() {
  const { t } = useTranslation();
  const me = useUser();
  const { data: users, problem, reload } = useLoad(listUsers);
  const [open, setOpen] = useState<Open>(null);
  const [rowProblem, setRowProblem] = useState<AdminProblem | null>(null);
  const text = useProblemText();

  async function toggle(u: UserView) {
    const r = await updateUser(u.username, { enabled: !u.enabled });
    if (r.ok) {
      setRowProblem(null);
      toast(t(r.data.enabled ? 'adminConsole.users.enabledToast' : 'adminConsole.users.disabledToast', { name: u.username }));
      reload();
    } else {
      setRowProblem(r.problem);
      toast(text(r.problem), 'error');
    }
  }

  return (
    <div>
      <ConsoleHeader title={t('adminConsole.users.title')}>
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setOpen({ kind: 'create' })}>
          {t('adminConsole.users.create')}
        </button>
      </ConsoleHeader>
      <div className="space-y-2 p-3">
        <ProblemAlert problem={problem ?? rowProblem} />
        {!users && !problem && (
          <p role="status" className="text-muted">
            {t('app.loading')}
          </p>
        )}
        {users && (
          <table className={tableClass}>
            <caption className="sr-only">{t('adminConsole.users.title')}</caption>
            <thead>
              <tr>
                <Th>{t('adminConsole.users.username')}</Th>
                <Th>{t('adminConsole.users.displayName')}</Th>
                <Th>{t('adminConsole.users.role')}</Th>
                <Th>{t('adminConsole.users.state')}</Th>
                <Th>{t('adminConsole.users.updated')}</Th>
                <Th>
                  <span className="sr-only">{t('adminConsole.actions')}</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} className={u.enabled ? '' : 'text-muted'}>
                  <td className={`${tdClass} font-mono`}>{u.username}</td>
                  <td className={tdClass}>{u.display_name}</td>
                  <td className={tdClass}>{t(`role.${u.role}`, { defaultValue: u.role })}</td>
                  <td className={tdClass}>
                    <span className={`chip ${u.enabled ? '!text-ok' : '!text-danger'}`}>
                      {u.enabled ? t('adminConsole.enabled') : t('adminConsole.disabled')}
                    </span>
                  </td>
                  <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{formatDateTime(u.updated_at)}</td>
                  <td className={`${tdClass} whitespace-nowrap text-right`}>
                    <div className="flex justify-end gap-1">
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'role', user: u })}>
                        {t('adminConsole.users.changeRole')}
                        <span className="sr-only"> {u.username}</span>
                      </button>
                      <button
                        type="button"
                        className={`btn btn-sm ${u.enabled ? 'btn-danger' : ''}`}
                        onClick={() => void toggle(u)}
                        disabled={u.username === me.name}
                        title={u.username === me.name ? t('adminConsole.users.notYourself') : undefined}
                      >
                        {u.enabled ? t('adminConsole.disable') : t('adminConsole.enable')}
                        <span className="sr-only"> {u.username}</span>
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'password', user: u })}>
                        {t('adminConsole.users.resetPassword')}
                        <span className="sr-only"> {u.username}</span>
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'audit', user: u })}>
                        {t('adminConsole.audit.open')}
                        <span className="sr-only"> {u.username}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <CreateUserDialog
        open={open?.kind === 'create'}
        onClose={() => setOpen(null)}
        onCreated={(u) => {
          setOpen(null);
          toast(t('adminConsole.users.createdToast', { name: u.username }));
          reload();
        }}
      />
      {open?.kind === 'role' && (
        <RoleDialog
          user={open.user}
          onClose={() => setOpen(null)}
          onDone={() => {
            setOpen(null);
            reload();
          }}
        />
      )}
      {open?.kind === 'password' && <PasswordDialog user={open.user} onClose={() => setOpen(null)} />}
      {open?.kind === 'audit' && <UserAuditDialog user={open.user} onClose={() => setOpen(null)} />}
    </div>
  );
}

function RoleSelect({ id, value, onChange }: { id: string; value: string; onChange: (r: string) => void }) {
  const { t } = useTranslation();
  return (
    <select id={id} className="input w-full" value={value} onChange={(e) => onChange(e.target.value)}>
      {PERSON_ROLES.map((r) => (
        <option key={r} value={r}>
          {t(`role.${r}`)}
        </option>
      ))}
    </select>
  );
}

function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (u: UserView) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<string>('analyst');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);

  function close() {
    setUsername('');
    setDisplayName('');
    setRole('analyst');
    setPassword('');
    setProblem(null);
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!username.trim()) return setProblem({ status: 422, field: 'username', detail: t('adminConsole.users.usernameRequired') });
    if (password.length < MIN_PASSWORD) {
      return setProblem({ status: 422, field: 'password', detail: t('adminConsole.users.passwordShort', { min: MIN_PASSWORD }) });
    }
    setBusy(true);
    const r = await createUser({ username: username.trim(), display_name: displayName.trim() || null, role, password });
    setBusy(false);
    if (r.ok) {
      setUsername('');
      setDisplayName('');
      setRole('analyst');
      setPassword('');
      setProblem(null);
      onCreated(r.data);
    } else setProblem(r.problem);
  }

  return (
    <Dialog open={open} onClose={close} title={t('adminConsole.users.createTitle')}>
      <form className="grid grid-cols-2 gap-3" onSubmit={(e) => void submit(e)} noValidate>
        <div>
          <label className="label" htmlFor={`${id}-u`}>
            {t('adminConsole.users.username')}
          </label>
          <input
            id={`${id}-u`}
            className="input w-full"
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={problem?.field === 'username' || undefined}
            required
          />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-d`}>
            {t('adminConsole.users.displayName')}
          </label>
          <input id={`${id}-d`} className="input w-full" autoComplete="off" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-r`}>
            {t('adminConsole.users.role')}
          </label>
          <RoleSelect id={`${id}-r`} value={role} onChange={setRole} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-p`}>
            {t('adminConsole.users.initialPassword')}
          </label>
          <input
            id={`${id}-p`}
            className="input w-full"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={`${id}-ph`}
            aria-invalid={problem?.field === 'password' || undefined}
            required
          />
          <p id={`${id}-ph`} className="mt-1 text-xs text-muted">
            {t('adminConsole.users.passwordHint', { min: MIN_PASSWORD })}
          </p>
        </div>
        <div className="col-span-2">
          <ProblemAlert problem={problem} />
        </div>
        <div className="col-span-2 flex justify-end gap-2">
          <button type="button" className="btn" onClick={close}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('adminConsole.users.createSubmit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RoleDialog({ user, onClose, onDone }: { user: UserView; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [role, setRole] = useState(user.role);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await updateUser(user.username, { role });
    if (r.ok) {
      toast(t('adminConsole.users.roleToast', { name: user.username, role: t(`role.${role}`, { defaultValue: role }) }));
      onDone();
    } else setProblem(r.problem);
  }
  return (
    <Dialog open onClose={onClose} title={t('adminConsole.users.roleTitle', { name: user.username })}>
      <form className="space-y-3" onSubmit={(e) => void submit(e)}>
        <div>
          <label className="label" htmlFor={`${id}-r`}>
            {t('adminConsole.users.role')}
          </label>
          <RoleSelect id={`${id}-r`} value={role} onChange={setRole} />
          <p className="mt-1 text-xs text-muted">{t('adminConsole.users.endsSessions')}</p>
        </div>
        <ProblemAlert problem={problem} />
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={role === user.role}>
            {t('adminConsole.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function PasswordDialog({ user, onClose }: { user: UserView; onClose: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) {
      return setProblem({ status: 422, field: 'password', detail: t('adminConsole.users.passwordShort', { min: MIN_PASSWORD }) });
    }
    const r = await resetPassword(user.username, password);
    if (r.ok) {
      toast(t('adminConsole.users.passwordToast', { name: user.username }));
      onClose();
    } else setProblem(r.problem);
  }
  return (
    <Dialog open onClose={onClose} title={t('adminConsole.users.passwordTitle', { name: user.username })}>
      <form className="space-y-3" onSubmit={(e) => void submit(e)} noValidate>
        <div>
          <label className="label" htmlFor={`${id}-p`}>
            {t('adminConsole.users.newPassword')}
          </label>
          <input
            id={`${id}-p`}
            className="input w-full"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={`${id}-ph`}
            aria-invalid={problem?.field === 'password' || undefined}
          />
          <p id={`${id}-ph`} className="mt-1 text-xs text-muted">
            {t('adminConsole.users.passwordHint', { min: MIN_PASSWORD })}
          </p>
        </div>
        <ProblemAlert problem={problem} />
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary">
            {t('adminConsole.users.resetSubmit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function UserAuditDialog({ user, onClose }: { user: UserView; onClose: () => void }) {
  const { t } = useTranslation();
  const [load] = useState(() => () => userAudit(user.username));
  const { data, problem } = useLoad<AuditEntry[]>(load);
  return (
    <Dialog open onClose={onClose} title={t('adminConsole.audit.userTitle', { name: user.username })} wide>
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
