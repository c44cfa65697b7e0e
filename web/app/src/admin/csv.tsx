// A CSV import the server refused: each refused line and the server's
// reason, and that nothing was imported (the import is all rows or none).
import { useTranslation } from 'react-i18next';
import type { AdminProblem, RowError } from './api';

/** The refused rows, by line, each once, in file order. */
export function refusedRows(problem: AdminProblem): RowError[] {
  const seen = new Set<string>();
  return [...(problem.errors ?? [])]
    .sort((a, b) => a.line - b.line)
    .filter((e) => {
      const k = `${e.line}\u0000${e.reason}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

export function ImportRefusal({ problem, csv }: { problem: AdminProblem; csv?: string }) {
  const { t } = useTranslation();
  const rows = refusedRows(problem);
  const lines = csv?.split(/\r?\n/);
  return (
    <div role="alert" className="space-y-2 rounded border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
      <p className="font-semibold">{t('adminConsole.assets.nothingImported')}</p>
      {problem.detail && <p>{problem.detail}</p>}
      {rows.length > 0 && (
        <ul aria-label={t('adminConsole.assets.refusedLines')} className="space-y-1">
          {rows.map((r) => {
            const text = lines?.[r.line - 1];
            return (
              <li key={`${r.line}-${r.reason}`}>
                <span className="font-semibold">{t('adminConsole.assets.line', { line: r.line })}</span>: {r.reason}
                {text !== undefined && text !== '' && <code className="ml-2 break-all font-mono text-[0.75rem] text-[#ffe0e0]">{text}</code>}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
