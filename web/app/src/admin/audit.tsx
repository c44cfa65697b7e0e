// The audit trail of a user or a client: who changed what, when.
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../ui/format';
import type { AuditEntry } from './api';
import { Th, tableClass, tdClass } from './ui';

const KNOWN = [
  'created',
  'role_changed',
  'disabled',
  'enabled',
  'password_reset',
  'client_created',
  'client_disabled',
  'client_enabled',
  'client_secret_rotated',
];

const FIELDS = ['role', 'display_name', 'name'];

/** The detail object as `field: value` pairs (known fields and roles in words), for the table. */
export function auditDetail(detail: unknown, fieldName: (k: string) => string, roleName: (r: string) => string): string {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail as Record<string, unknown>)
    .map(([k, v]) => {
      const value = k === 'role' && typeof v === 'string' ? roleName(v) : typeof v === 'string' ? v : JSON.stringify(v);
      return `${FIELDS.includes(k) ? fieldName(k) : k}: ${value}`;
    })
    .join(', ');
}

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  const { t } = useTranslation();
  if (entries.length === 0) return <p className="text-[0.8125rem] text-muted">{t('adminConsole.audit.empty')}</p>;
  return (
    <table className={tableClass}>
      <caption className="sr-only">{t('adminConsole.audit.title')}</caption>
      <thead>
        <tr>
          <Th>{t('adminConsole.audit.at')}</Th>
          <Th>{t('adminConsole.audit.actor')}</Th>
          <Th>{t('adminConsole.audit.action')}</Th>
          <Th>{t('adminConsole.audit.detail')}</Th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e, i) => (
          <tr key={`${e.at}-${i}`}>
            <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{formatDateTime(e.at)}</td>
            <td className={tdClass}>{e.actor}</td>
            <td className={tdClass}>{KNOWN.includes(e.action) ? t(`adminConsole.audit.actions.${e.action}`) : e.action}</td>
            <td className={`${tdClass} text-muted`}>{auditDetail(
                e.detail,
                (k) => t(`adminConsole.audit.fields.${k}`),
                (r) => t(`role.${r}`, { defaultValue: r }),
              )}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
