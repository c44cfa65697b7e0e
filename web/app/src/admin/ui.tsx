// Pieces shared by the admin consoles: the server's problem as a message,
// a copy button, a yes/no confirmation.
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../ui/Dialog';
import type { AdminProblem, Result } from './api';

/** The words for a problem: the server's own detail, with the field it names. */
export function useProblemText(): (p: AdminProblem) => string {
  const { t } = useTranslation();
  return (p) => {
    if (p.status === 0) return t('adminConsole.errors.network', { detail: p.detail ?? '' });
    if (p.status === 403) return t('adminConsole.errors.forbidden');
    const detail = p.detail ?? t('adminConsole.errors.status', { status: p.status });
    return p.field ? t('adminConsole.errors.withField', { field: p.field, detail }) : detail;
  };
}

export function ProblemAlert({ problem, id }: { problem: AdminProblem | null; id?: string }) {
  const text = useProblemText();
  if (!problem) return null;
  return (
    <p id={id} role="alert" className="rounded border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
      {text(problem)}
    </p>
  );
}

export function ConsoleHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-wrap items-center gap-3 border-b border-line bg-panel px-3 py-2">
      <h1 className="text-sm font-semibold">{title}</h1>
      <div className="ml-auto flex flex-wrap items-center gap-2">{children}</div>
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        className="btn btn-sm"
        onClick={() => {
          // Absent outside a secure context: the secret stays selectable text.
          if (!navigator.clipboard) {
            setState('failed');
            return;
          }
          navigator.clipboard.writeText(text).then(
            () => setState('copied'),
            () => setState('failed'),
          );
        }}
      >
        {label}
      </button>
      <span role="status" className="text-xs text-muted">
        {state === 'copied' ? t('adminConsole.copied') : state === 'failed' ? t('adminConsole.copyFailed') : ''}
      </span>
    </>
  );
}

export function ConfirmDialog({
  open,
  title,
  body,
  confirm,
  onConfirm,
  onClose,
  problem,
  busy,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirm: string;
  onConfirm: () => void;
  onClose: () => void;
  problem: AdminProblem | null;
  busy: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onClose={onClose} title={title}>
      <div className="space-y-3 text-[0.8125rem]">
        <div>{body}</div>
        <ProblemAlert problem={problem} />
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('adminConsole.cancel')}
          </button>
          <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
            {confirm}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

/** A table's header cell. */
export function Th({ children, className = '' }: { children: ReactNode; className?: string }) {
  return (
    <th scope="col" className={`px-2 py-1.5 text-left text-[0.6875rem] font-semibold uppercase tracking-wide text-muted ${className}`}>
      {children}
    </th>
  );
}

export const tdClass = 'px-2 py-1.5 align-top';
export const tableClass = 'w-full border-collapse text-[0.8125rem] [&_tbody_tr]:border-t [&_tbody_tr]:border-line';

/** Loads with `fn` now and on `reload()`; keeps the last data when a reload fails. */
export function useLoad<T>(fn: () => Promise<Result<T>>): { data: T | null; problem: AdminProblem | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const reload = useCallback(() => {
    void fn().then((r) => {
      if (r.ok) {
        setData(r.data);
        setProblem(null);
      } else setProblem(r.problem);
    });
  }, [fn]);
  useEffect(reload, [reload]);
  return { data, problem, reload };
}
