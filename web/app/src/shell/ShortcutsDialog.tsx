import { useTranslation } from 'react-i18next';
import { Dialog } from '../ui/Dialog';

const ITEMS: [string[], string][] = [
  [['j', 'k'], 'jk'],
  [['Enter'], 'enter'],
  [['x'], 'x'],
  [['a'], 'a'],
  [['/'], 'slash'],
  [['Ctrl', 'K'], 'palette'],
  [['?'], 'help'],
  [['Esc'], 'escape'],
];

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onClose={onClose} title={t('shortcuts.title')}>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-[0.8125rem]">
        {ITEMS.map(([keys, name]) => (
          <div key={name} className="contents">
            <dt className="flex gap-1">
              {keys.map((k) => (
                <kbd key={k} className="kbd">
                  {k}
                </kbd>
              ))}
            </dt>
            <dd>{t(`shortcuts.items.${name}`)}</dd>
          </div>
        ))}
      </dl>
      <div className="mt-4 flex justify-end">
        <button type="button" className="btn" onClick={onClose} autoFocus>
          {t('shortcuts.close')}
        </button>
      </div>
    </Dialog>
  );
}
