// Saved views, kept on the server per user: a name and the queue's search string.
import { useNavigate } from '@tanstack/react-router';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { createView, deleteView, listViews, type SavedView } from '../api/rest';
import { parseSearchString } from '../searchString';
import { Dialog } from '../ui/Dialog';
import { toast } from '../ui/toast';
import { parseQueueSearch, stringifyQueueSearch, type QueueSearch } from './search';

export function SavedViews({ search }: { search: QueueSearch }) {
  const { t } = useTranslation();
  const id = useId();
  const navigate = useNavigate();
  const [views, setViews] = useState<SavedView[] | null>(null);
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const current = stringifyQueueSearch(search);

  const reload = useCallback(() => {
    listViews().then(setViews, () => setViews([]));
  }, []);
  useEffect(reload, [reload]);

  const norm = (q: string) => stringifyQueueSearch(parseQueueSearch(parseSearchString(q)));
  const selected = views?.find((v) => norm(v.query) === current);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return;
    try {
      const r = await createView(name.trim(), current);
      if (r === 'exists') {
        setError(t('queue.viewExists'));
        return;
      }
      setSaving(false);
      setName('');
      reload();
    } catch (err) {
      setError(t('errors.generic', { detail: String(err) }));
    }
  }

  return (
    <div className="flex items-center gap-1">
      <label className="sr-only" htmlFor={`${id}-v`}>
        {t('queue.views')}
      </label>
      <select
        id={`${id}-v`}
        className="input !h-7 w-48 !text-xs"
        value={selected?.id ?? ''}
        onChange={(e) => {
          const v = views?.find((x) => x.id === e.target.value);
          if (v) void navigate({ to: '/tickets', search: parseQueueSearch(parseSearchString(v.query)) });
        }}
      >
        <option value="">{views && views.length === 0 ? t('queue.noViews') : t('queue.views')}</option>
        {(views ?? []).map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
          </option>
        ))}
      </select>
      {selected && (
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          aria-label={t('queue.deleteView', { name: selected.name })}
          title={t('queue.deleteView', { name: selected.name })}
          onClick={async () => {
            try {
              await deleteView(selected.id);
              reload();
            } catch (err) {
              toast(t('errors.generic', { detail: String(err) }), 'error');
            }
          }}
        >
          ✕
        </button>
      )}
      <button
        type="button"
        className="btn btn-sm"
        onClick={() => {
          setError(null);
          setSaving(true);
        }}
      >
        {t('queue.saveView')}
      </button>
      <Dialog open={saving} onClose={() => setSaving(false)} title={t('queue.saveView')}>
        <form onSubmit={save} className="space-y-3">
          <div>
            <label className="label" htmlFor={`${id}-name`}>
              {t('queue.viewName')}
            </label>
            <input id={`${id}-name`} className="input w-full" autoFocus value={name} onChange={(e) => setName(e.target.value)} maxLength={80} />
          </div>
          <p className="break-all font-mono text-xs text-muted">/tickets{current}</p>
          {error && (
            <p role="alert" className="text-[0.8125rem] text-danger">
              {error}
            </p>
          )}
          <div className="flex justify-end gap-2">
            <button type="button" className="btn" onClick={() => setSaving(false)}>
              {t('queue.cancel')}
            </button>
            <button type="submit" className="btn btn-primary">
              {t('queue.save')}
            </button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
