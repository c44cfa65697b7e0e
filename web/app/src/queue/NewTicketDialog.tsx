import { useNavigate } from '@tanstack/react-router';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { openTicket } from '../api/rest';
import type { Severity } from '../gql/graphql';
import { client } from '../graphql/client';
import { TicketByNumberQuery } from '../graphql/documents';
import { Dialog } from '../ui/Dialog';
import { toast } from '../ui/toast';
import { SEVERITIES } from './search';
import { isIp } from '../ticket/observables';

export function NewTicketDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [severity, setSeverity] = useState<Severity>('MEDIUM');
  const [sourceIp, setSourceIp] = useState('');
  const [destinationIp, setDestinationIp] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) return;
    for (const ip of [sourceIp, destinationIp]) {
      if (ip.trim() && !isIp(ip.trim())) {
        setError(t('ticket.invalidObservable.IP'));
        return;
      }
    }
    setBusy(true);
    const o = await openTicket({
      title: title.trim(),
      description,
      severity,
      source_ip: sourceIp.trim() || null,
      destination_ip: destinationIp.trim() || null,
    });
    setBusy(false);
    if (o.kind !== 'ok') {
      setError(t('ticket.error', { detail: o.problem.detail ?? `HTTP ${o.problem.status}` }));
      return;
    }
    toast(t('ticket.opened', { number: o.number ?? '' }));
    setTitle('');
    setDescription('');
    setSourceIp('');
    setDestinationIp('');
    setError(null);
    onClose();
    if (o.number) {
      // Read your write: the ticket page finds the ticket even before the projector's next batch.
      const fetchOptions = o.position ? { headers: { 'x-min-position': o.position } } : undefined;
      await client.query(TicketByNumberQuery, { number: o.number }, { requestPolicy: 'network-only', fetchOptions }).toPromise();
      void navigate({ to: '/tickets/$number', params: { number: o.number } });
    }
  }

  return (
    <Dialog open={open} onClose={onClose} title={t('ticket.openNew')} wide>
      <form onSubmit={submit} className="grid grid-cols-2 gap-3">
        <div className="col-span-2">
          <label className="label" htmlFor={`${id}-title`}>
            {t('ticket.title')}
          </label>
          <input id={`${id}-title`} className="input w-full" required maxLength={200} autoFocus value={title} onChange={(e) => setTitle(e.target.value)} />
        </div>
        <div className="col-span-2">
          <label className="label" htmlFor={`${id}-desc`}>
            {t('ticket.description')}
          </label>
          <textarea id={`${id}-desc`} className="input w-full" rows={4} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-sev`}>
            {t('queue.severity')}
          </label>
          <select id={`${id}-sev`} className="input w-full" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {t(`severity.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div />
        <div>
          <label className="label" htmlFor={`${id}-src`}>
            {t('ticket.fields.sourceIp')}
          </label>
          <input id={`${id}-src`} className="input w-full font-mono" value={sourceIp} onChange={(e) => setSourceIp(e.target.value)} />
        </div>
        <div>
          <label className="label" htmlFor={`${id}-dst`}>
            {t('ticket.fields.destinationIp')}
          </label>
          <input id={`${id}-dst`} className="input w-full font-mono" value={destinationIp} onChange={(e) => setDestinationIp(e.target.value)} />
        </div>
        {error && (
          <p role="alert" className="col-span-2 text-[0.8125rem] text-danger">
            {error}
          </p>
        )}
        <div className="col-span-2 flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('ticket.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('ticket.open')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
