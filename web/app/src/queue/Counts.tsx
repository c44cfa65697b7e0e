// Unassigned NEW tickets by severity (four aliased totalCount queries),
// refreshed shortly after live events.
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import type { Severity } from '../gql/graphql';
import { onLiveEvent } from '../graphql/client';
import { UnassignedNewCountsQuery } from '../graphql/documents';

const ALIAS: [Severity, 'critical' | 'high' | 'medium' | 'low'][] = [
  ['CRITICAL', 'critical'],
  ['HIGH', 'high'],
  ['MEDIUM', 'medium'],
  ['LOW', 'low'],
];
const COLOR: Record<Severity, string> = {
  CRITICAL: 'text-sev-critical',
  HIGH: 'text-sev-high',
  MEDIUM: 'text-sev-medium',
  LOW: 'text-sev-low',
};

export function Counts({ onPick }: { onPick: (s: Severity) => void }) {
  const { t } = useTranslation();
  const [res, refetch] = useQuery({ query: UnassignedNewCountsQuery, requestPolicy: 'cache-and-network' });
  // The latest refetch, so that re-renders do not reset the pending timer.
  const refetchRef = useRef(refetch);
  useEffect(() => {
    refetchRef.current = refetch;
  }, [refetch]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = onLiveEvent(() => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        refetchRef.current({ requestPolicy: 'network-only' });
      }, 1000);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, []);
  return (
    <div role="group" aria-label={t('queue.unassignedNew')} className="flex items-center gap-1">
      <span className="mr-1 text-xs text-muted">{t('queue.unassignedNew')}</span>
      {ALIAS.map(([sev, alias]) => {
        const n = res.data?.[alias].totalCount;
        return (
          <button
            key={sev}
            type="button"
            className="btn btn-sm gap-1.5"
            title={t('queue.unassignedNewOf', { severity: t(`severity.${sev}`), count: n ?? 0 })}
            onClick={() => onPick(sev)}
          >
            <span className={`font-semibold tabular-nums ${COLOR[sev]}`}>{n ?? '·'}</span>
            <span className="text-muted">{t(`severity.${sev}`)}</span>
          </button>
        );
      })}
    </div>
  );
}
