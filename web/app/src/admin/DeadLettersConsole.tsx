// Dead letters: input the ingest could not parse, newest first. The list has
// no bytes; a letter's raw bytes are fetched when it is opened, and shown as
// text beside a hex dump.
import { Fragment, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../ui/format';
import { ConsoleGate } from './AdminLayout';
import { getDeadLetter, listDeadLetters, type AdminProblem, type DeadLetterSummary, type DeadLetterView } from './api';
import { decodeBase64, hexDump } from './hexdump';
import { ConsoleHeader, ProblemAlert, Th, tableClass, tdClass } from './ui';

export function DeadLettersConsole() {
  return (
    <ConsoleGate console="deadLetters">
      <DeadLetters />
    </ConsoleGate>
  );
}

function DeadLetters() {
  const { t, i18n } = useTranslation();
  const [items, setItems] = useState<DeadLetterSummary[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [openId, setOpenId] = useState<number | null>(null);
  const bytes = new Intl.NumberFormat(i18n.language);

  const load = useCallback((before?: number) => {
    void listDeadLetters(before).then((r) => {
      if (!r.ok) {
        setProblem(r.problem);
        return;
      }
      setProblem(null);
      setItems((prev) => (before !== undefined && prev ? [...prev, ...r.data.items] : r.data.items));
      setNextBefore(r.data.next_before ?? null);
    });
  }, []);
  const reload = useCallback(() => load(), [load]);
  useEffect(reload, [reload]);

  return (
    <div>
      <ConsoleHeader title={t('adminConsole.deadLetters.title')}>
        <button type="button" className="btn btn-sm" onClick={reload}>
          {t('adminConsole.reload')}
        </button>
      </ConsoleHeader>
      <div className="space-y-2 p-3">
        <p className="text-xs text-muted">{t('adminConsole.deadLetters.intro')}</p>
        <ProblemAlert problem={problem} />
        {!items && !problem && <p role="status">{t('app.loading')}</p>}
        {items && items.length === 0 && <p className="text-[0.8125rem] text-muted">{t('adminConsole.deadLetters.empty')}</p>}
        {items && items.length > 0 && (
          <table className={tableClass}>
            <caption className="sr-only">{t('adminConsole.deadLetters.title')}</caption>
            <thead>
              <tr>
                <Th>{t('adminConsole.deadLetters.receivedAt')}</Th>
                <Th>{t('adminConsole.deadLetters.reason')}</Th>
                <Th>{t('adminConsole.deadLetters.transport')}</Th>
                <Th>{t('adminConsole.deadLetters.peer')}</Th>
                <Th className="text-right">{t('adminConsole.deadLetters.size')}</Th>
                <Th>
                  <span className="sr-only">{t('adminConsole.actions')}</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <Fragment key={d.id}>
                  <tr>
                    <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{formatDateTime(d.received_at)}</td>
                    <td className={tdClass}>{d.reason}</td>
                    <td className={`${tdClass} uppercase`}>{d.transport}</td>
                    <td className={`${tdClass} font-mono`}>{d.peer ?? '—'}</td>
                    <td className={`${tdClass} text-right tabular-nums`}>{t('adminConsole.deadLetters.bytes', { size: bytes.format(d.size) })}</td>
                    <td className={`${tdClass} text-right`}>
                      <button
                        type="button"
                        className="btn btn-sm"
                        aria-expanded={openId === d.id}
                        aria-controls={`dead-letter-${d.id}`}
                        onClick={() => setOpenId(openId === d.id ? null : d.id)}
                      >
                        {openId === d.id ? t('adminConsole.deadLetters.hide') : t('adminConsole.deadLetters.open')}
                        <span className="sr-only"> {t('adminConsole.deadLetters.letter', { id: d.id })}</span>
                      </button>
                    </td>
                  </tr>
                  {openId === d.id && (
                    <tr>
                      <td colSpan={6} className="bg-panel-2 p-2" id={`dead-letter-${d.id}`}>
                        <RawBytes id={d.id} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
        {nextBefore !== null && (
          <button type="button" className="btn btn-sm" onClick={() => load(nextBefore)}>
            {t('adminConsole.deadLetters.older')}
          </button>
        )}
      </div>
    </div>
  );
}

function RawBytes({ id }: { id: number }) {
  const { t } = useTranslation();
  const [letter, setLetter] = useState<DeadLetterView | null>(null);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  useEffect(() => {
    let live = true;
    void getDeadLetter(id).then((r) => {
      if (!live) return;
      if (r.ok) setLetter(r.data);
      else setProblem(r.problem);
    });
    return () => {
      live = false;
    };
  }, [id]);
  if (problem) return <ProblemAlert problem={problem} />;
  if (!letter) return <p role="status">{t('app.loading')}</p>;
  const raw = decodeBase64(letter.raw_base64);
  return (
    <div className="grid gap-3 md:grid-cols-2" role="group" aria-label={t('adminConsole.deadLetters.raw', { id })}>
      <section aria-labelledby={`dl-${id}-text`} className="min-w-0">
        <h2 id={`dl-${id}-text`} className="label">
          {t('adminConsole.deadLetters.text')}
        </h2>
        <pre
          tabIndex={0}
          className="max-h-80 overflow-auto whitespace-pre-wrap break-all rounded bg-bg p-2 font-mono text-[0.75rem]"
          data-testid="dead-letter-text"
        >
          {letter.raw_text}
        </pre>
      </section>
      <section aria-labelledby={`dl-${id}-hex`} className="min-w-0">
        <h2 id={`dl-${id}-hex`} className="label">
          {t('adminConsole.deadLetters.hex', { size: raw.length })}
        </h2>
        <pre tabIndex={0} className="max-h-80 overflow-auto rounded bg-bg p-2 font-mono text-[0.75rem]" data-testid="dead-letter-hex">
          {hexDump(raw)}
        </pre>
      </section>
    </div>
  );
}
