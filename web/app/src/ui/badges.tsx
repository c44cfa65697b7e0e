import { useTranslation } from 'react-i18next';
import type { Severity, Status } from '../gql/graphql';

const SEV_CLASS: Record<Severity, string> = {
  CRITICAL: 'text-sev-critical border-[#7a3535] bg-[#2a1416]',
  HIGH: 'text-sev-high border-[#6d4425] bg-[#27190f]',
  MEDIUM: 'text-sev-medium border-[#5f5325] bg-[#231f10]',
  LOW: 'text-sev-low border-[#3a475c] bg-[#161c26]',
};
const SEV_DOT: Record<Severity, string> = {
  CRITICAL: 'bg-sev-critical',
  HIGH: 'bg-sev-high',
  MEDIUM: 'bg-sev-medium',
  LOW: 'bg-sev-low',
};

export function SeverityBadge({ severity }: { severity: Severity }) {
  const { t } = useTranslation();
  return (
    <span className={`chip ${SEV_CLASS[severity]}`}>
      <span aria-hidden="true" className={`inline-block size-1.5 rounded-full ${SEV_DOT[severity]}`} />
      {t(`severity.${severity}`)}
    </span>
  );
}

const STATUS_CLASS: Record<Status, string> = {
  NEW: 'text-[#9cc4ff] border-[#2e4a75]',
  IN_PROGRESS: 'text-[#c5b3ff] border-[#4a3d7a]',
  ON_HOLD: 'text-[#f2c14e] border-[#5f4c1f]',
  RESOLVED: 'text-[#74dca8] border-[#235a40]',
  CLOSED: 'text-[#a3acbb] border-[#3a4457]',
};

export function StatusBadge({ status }: { status: Status }) {
  const { t } = useTranslation();
  return <span className={`chip ${STATUS_CLASS[status]}`}>{t(`status.${status}`)}</span>;
}
