// Running a ticket command from the UI: If-Match with the version shown, then
// read-your-writes (x-min-position) so the screen shows the result at once;
// a 412 names who changed the ticket meanwhile.
import type { TFunction } from 'i18next';
import { ticketCommand, type CommandBodies, type CommandOutcome } from '../api/rest';
import type { TicketCommand } from '../auth/permissions';
import { client } from '../graphql/client';
import { LastActorQuery, TicketByIdQuery, TicketRowQuery } from '../graphql/documents';

export interface Conflict {
  actor: string | null;
  version: number | null;
}

export async function lastChange(id: string): Promise<Conflict> {
  const r = await client.query(LastActorQuery, { id }, { requestPolicy: 'network-only' }).toPromise();
  // The newest event only (a page of one, newest first), not the whole stream.
  const last = r.data?.ticketHistory[0];
  return { actor: last?.actor ?? null, version: last?.sequence ?? null };
}

export async function refetchTicket(id: string, position: string | null, detail: boolean): Promise<void> {
  const context = {
    requestPolicy: 'network-only' as const,
    fetchOptions: position ? { headers: { 'x-min-position': position } } : undefined,
  };
  if (detail) await client.query(TicketByIdQuery, { id }, context).toPromise();
  else await client.query(TicketRowQuery, { id }, context).toPromise();
}

export type RunResult = { outcome: CommandOutcome; conflict?: Conflict };

export async function run<K extends TicketCommand>(
  id: string,
  command: K,
  body: CommandBodies[K],
  version: number,
  detail = false,
): Promise<RunResult> {
  const outcome = await ticketCommand(id, command, body, version);
  if (outcome.kind === 'ok') {
    await refetchTicket(id, outcome.position, detail);
    return { outcome };
  }
  if (outcome.kind === 'conflict') return { outcome, conflict: await lastChange(id) };
  return { outcome };
}

/** One line for a command's failure, in the current language. */
export function failureText(r: RunResult, t: TFunction): string {
  const o = r.outcome;
  switch (o.kind) {
    case 'ok':
      return '';
    case 'conflict':
      return r.conflict?.actor
        ? t('ticket.conflict', { actor: r.conflict.actor, version: r.conflict.version ?? '?' })
        : t('ticket.conflictUnknown');
    case 'invalid':
      return t('ticket.invalidTransition', { detail: o.problem.detail ?? o.problem.code ?? '' });
    case 'forbidden':
      return t('ticket.forbidden');
    case 'error':
      return t('ticket.error', { detail: o.problem.detail ?? (o.problem.status ? `HTTP ${o.problem.status}` : '') });
  }
}
