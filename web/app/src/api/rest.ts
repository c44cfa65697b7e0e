// REST commands, typed from web/openapi.json (openapi-typescript →
// api/openapi.d.ts at build; openapi-fetch). Every ticket command carries
// If-Match with the version the user saw: a 412 is never overwritten.
import createClient from 'openapi-fetch';
import { session } from '../auth/session';
import type { TicketCommand } from '../auth/permissions';
import type { components, paths } from './openapi';

type S = components['schemas'];

export const api = createClient<paths>({
  baseUrl: '',
  fetch: (req: Request) => session.authFetch(req),
});

export interface CommandBodies {
  assign: S['AssignRequest'];
  unassign: S['Empty'];
  start: S['Empty'];
  hold: S['ReasonRequest'];
  resume: S['Empty'];
  resolve: S['ResolveRequest'];
  close: S['CloseRequest'];
  reopen: S['ReasonRequest'];
  severity: S['SeverityRequest'];
  comments: S['CommentRequest'];
  tags: S['TagsRequest'];
  observables: S['ObservableRequest'];
  duplicate: S['DuplicateRequest'];
}

export interface Problem {
  status: number;
  code?: string;
  detail?: string;
  title?: string;
}

export type CommandOutcome =
  | { kind: 'ok'; id: string; version: number; position: string | null; number: string | null }
  | { kind: 'conflict'; problem: Problem }
  | { kind: 'invalid'; problem: Problem }
  | { kind: 'forbidden'; problem: Problem }
  | { kind: 'error'; problem: Problem };

function problemOf(status: number, body: unknown): Problem {
  const b = (body ?? {}) as { code?: string; detail?: string; title?: string };
  return { status, code: b.code, detail: b.detail ?? b.title, title: b.title };
}

function outcome(response: Response, data: unknown, error: unknown): CommandOutcome {
  if (response.ok && data) {
    const d = data as S['CommandResponse'];
    return { kind: 'ok', id: d.id, version: d.version, position: d.position ?? null, number: d.number ?? null };
  }
  const problem = problemOf(response.status, error);
  if (response.status === 412) return { kind: 'conflict', problem };
  if (response.status === 409) return { kind: 'invalid', problem };
  if (response.status === 403) return { kind: 'forbidden', problem };
  return { kind: 'error', problem };
}

export const ifMatch = (version: number): string => `"${version}"`;

/** POST /api/v1/tickets/{id}/<command> with If-Match: "<version>". */
export async function ticketCommand<K extends TicketCommand>(
  id: string,
  command: K,
  body: CommandBodies[K],
  version: number,
): Promise<CommandOutcome> {
  try {
    // One path per command; their parameters and answers are the same.
    const path = `/api/v1/tickets/{id}/${command}` as '/api/v1/tickets/{id}/assign';
    const { data, error, response } = await api.POST(path, {
      params: { path: { id }, header: { 'If-Match': ifMatch(version) } },
      body: body as S['AssignRequest'],
    });
    return outcome(response, data, error);
  } catch (e) {
    return { kind: 'error', problem: { status: 0, detail: String(e) } };
  }
}

export async function removeTag(id: string, tag: string, version: number): Promise<CommandOutcome> {
  try {
    const { data, error, response } = await api.DELETE('/api/v1/tickets/{id}/tags/{tag}', {
      params: { path: { id, tag }, header: { 'If-Match': ifMatch(version) } },
    });
    return outcome(response, data, error);
  } catch (e) {
    return { kind: 'error', problem: { status: 0, detail: String(e) } };
  }
}

export async function openTicket(body: S['OpenTicketRequest']): Promise<CommandOutcome> {
  try {
    const { data, error, response } = await api.POST('/api/v1/tickets', { body });
    return outcome(response, data, error);
  } catch (e) {
    return { kind: 'error', problem: { status: 0, detail: String(e) } };
  }
}

// Saved views (GET/POST /api/v1/me/views, DELETE /api/v1/me/views/{id}):
// a name and the queue's search string (without the `?`).
export type SavedView = S['SavedView'];

export async function listViews(): Promise<SavedView[]> {
  const { data, response } = await api.GET('/api/v1/me/views');
  if (!data) throw new Error(`HTTP ${response.status}`);
  return data;
}

export async function createView(name: string, query: string): Promise<SavedView | 'exists'> {
  const { data, response } = await api.POST('/api/v1/me/views', { body: { name, query: query.replace(/^\?/, '') } });
  if (response.status === 409) return 'exists';
  if (!data) throw new Error(`HTTP ${response.status}`);
  return data;
}

export async function deleteView(id: string): Promise<void> {
  const { response } = await api.DELETE('/api/v1/me/views/{id}', { params: { path: { id } } });
  if (!response.ok && response.status !== 404) throw new Error(`HTTP ${response.status}`);
}
