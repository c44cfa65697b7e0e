import { useNavigate } from '@tanstack/react-router';
import { useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listViews, type SavedView } from '../api/rest';
import { session } from '../auth/session';
import { setLanguage } from '../i18n';
import { parseSearchString } from '../searchString';
import { parseQueueSearch } from '../queue/search';
import { Dialog } from '../ui/Dialog';
import { emitCommand } from './commands';

interface Item {
  id: string;
  label: string;
  run: () => void;
}

export function CommandPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onClose={onClose} title={t('palette.title')} wide>
      <PaletteBody onClose={onClose} />
    </Dialog>
  );
}

/** Mounted on each opening (the dialog renders its content only when open): fresh state every time. */
function PaletteBody({ onClose }: { onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const [views, setViews] = useState<SavedView[]>([]);

  useEffect(() => {
    listViews().then(setViews, () => setViews([]));
  }, []);

  const items = useMemo<Item[]>(() => {
    const go = (f: () => void) => () => {
      onClose();
      f();
    };
    const list: Item[] = [];
    const m = text.trim().match(/^(?:soc-?)?(\d+)$/i);
    if (m) {
      const number = `SOC-${m[1]}`;
      list.push({ id: 'ticket', label: t('palette.goTicket', { number }), run: go(() => void navigate({ to: '/tickets/$number', params: { number } })) });
    }
    list.push(
      { id: 'queue', label: t('palette.goQueue'), run: go(() => void navigate({ to: '/tickets', search: {} })) },
      { id: 'mine', label: t('palette.myTickets'), run: go(() => void navigate({ to: '/tickets', search: { assignee: 'me' } })) },
      {
        id: 'unassigned',
        label: t('palette.unassignedNew'),
        run: go(() => void navigate({ to: '/tickets', search: { status: ['NEW'], assignee: 'unassigned' } })),
      },
      {
        id: 'new',
        label: t('palette.newTicket'),
        run: go(() => {
          void navigate({ to: '/tickets', search: (s) => s }).then(() => emitCommand('new-ticket'));
        }),
      },
      ...views.map((v) => ({
        id: `view-${v.id}`,
        label: t('palette.view', { name: v.name }),
        run: go(() => void navigate({ to: '/tickets', search: parseQueueSearch(parseSearchString(v.query)) })),
      })),
      { id: 'lang', label: t('palette.switchLanguage'), run: go(() => setLanguage(i18n.language === 'es' ? 'en' : 'es')) },
      { id: 'shortcuts', label: t('palette.shortcuts'), run: go(() => emitCommand('shortcuts')) },
      { id: 'signout', label: t('palette.signOut'), run: go(() => void session.logout()) },
    );
    const q = text.trim().toLowerCase();
    return m || !q ? list : list.filter((i) => i.label.toLowerCase().includes(q));
  }, [text, views, t, i18n.language, navigate, onClose]);

  const current = Math.min(active, Math.max(0, items.length - 1));

  return (
    <>
      <input
        role="combobox"
        aria-expanded="true"
        aria-controls={`${id}-list`}
        aria-activedescendant={items[current] ? `${id}-${items[current].id}` : undefined}
        aria-label={t('palette.input')}
        placeholder={t('palette.input')}
        className="input w-full"
        autoFocus
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(items.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            items[current]?.run();
          }
        }}
      />
      <ul id={`${id}-list`} role="listbox" aria-label={t('palette.title')} className="mt-2 max-h-80 overflow-auto">
        {items.length === 0 && <li className="px-2 py-2 text-muted">{t('palette.empty')}</li>}
        {items.map((item, i) => (
          <li
            key={item.id}
            id={`${id}-${item.id}`}
            role="option"
            aria-selected={i === current}
            className={`cursor-pointer rounded px-2 py-1.5 text-[0.8125rem] ${i === current ? 'bg-accent-strong text-white' : 'hover:bg-raised'}`}
            onMouseEnter={() => setActive(i)}
            onClick={() => item.run()}
          >
            {item.label}
          </li>
        ))}
      </ul>
    </>
  );
}
