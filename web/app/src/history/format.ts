// Instants of the audit trail: the user's zone, named, to the second.
import i18n from '../i18n';

const cache = new Map<string, Intl.DateTimeFormat>();

export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const lang = i18n.language === 'en' ? 'en-GB' : 'es-ES';
  let f = cache.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'long' });
    cache.set(lang, f);
  }
  return f.format(d);
}
