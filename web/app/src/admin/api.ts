// The admin consoles' REST calls (web/openapi.json, /api/v1/admin/…). Every
// call answers its data or the server's problem body, which the consoles
// show as it is (its detail, the field it names, the CSV rows it refused).
import { api } from '../api/rest';
import type { components } from '../api/openapi';

type S = components['schemas'];
export type UserView = S['UserView'];
export type ClientView = S['ClientView'];
export type ClientCreated = S['ClientCreated'];
export type AuditEntry = S['AuditEntryView'];
export type AssetRow = S['AssetRow'];
export type AssetRequest = S['AssetRequest'];
export type RowError = S['RowError'];
export type DeadLetterSummary = S['DeadLetterSummary'];
export type DeadLetterPage = S['DeadLetterPage'];
export type DeadLetterView = S['DeadLetterView'];

/** An RFC 9457 problem as the server words it. */
export interface AdminProblem {
  status: number;
  code?: string;
  detail?: string;
  field?: string;
  /** A CSV import's refused rows (nothing was imported). */
  errors?: RowError[];
}

export type Result<T> = { ok: true; data: T } | { ok: false; problem: AdminProblem };

export function problemOf(status: number, body: unknown): AdminProblem {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const errors = Array.isArray(b.errors)
    ? b.errors.filter(
        (e): e is RowError => !!e && typeof e === 'object' && typeof (e as RowError).line === 'number' && typeof (e as RowError).reason === 'string',
      )
    : undefined;
  return {
    status,
    code: str(b.code),
    detail: str(b.detail) ?? str(b.title),
    field: str(b.field),
    ...(errors ? { errors } : {}),
  };
}

async function call<T>(run: () => Promise<{ data?: T; error?: unknown; response: Response }>, empty?: T): Promise<Result<T>> {
  try {
    const { data, error, response } = await run();
    if (response.ok) {
      if (data !== undefined) return { ok: true, data };
      if (empty !== undefined) return { ok: true, data: empty };
    }
    return { ok: false, problem: problemOf(response.status, error) };
  } catch (e) {
    return { ok: false, problem: { status: 0, detail: e instanceof Error ? e.message : String(e) } };
  }
}

// Users
export const listUsers = () => call(() => api.GET('/api/v1/admin/users'));
export const createUser = (body: S['CreateUserRequest']) => call(() => api.POST('/api/v1/admin/users', { body }));
export const updateUser = (username: string, body: S['UpdateUserRequest']) =>
  call(() => api.PATCH('/api/v1/admin/users/{username}', { params: { path: { username } }, body }));
export const resetPassword = (username: string, password: string) =>
  call(() => api.POST('/api/v1/admin/users/{username}/password', { params: { path: { username } }, body: { password } }), true as const);
// The route's answer has no schema in openapi.json; it is AuditEntryView[] like the clients' audit.
export const userAudit = (username: string) =>
  call<AuditEntry[]>(async () => {
    const r = await api.GET('/api/v1/admin/users/{username}/audit', { params: { path: { username } }, parseAs: 'json' });
    return { data: r.data as AuditEntry[] | undefined, error: r.error, response: r.response };
  });

// Integration clients
export const listClients = () => call(() => api.GET('/api/v1/admin/clients'));
export const createClient = (name: string) => call(() => api.POST('/api/v1/admin/clients', { body: { name, role: 'integration' } }));
export const setClientEnabled = (clientId: string, enabled: boolean) =>
  call(() => api.PATCH('/api/v1/admin/clients/{client_id}', { params: { path: { client_id: clientId } }, body: { enabled } }));
export const rotateSecret = (clientId: string) =>
  call(() => api.POST('/api/v1/admin/clients/{client_id}/secret', { params: { path: { client_id: clientId } } }));
export const clientAudit = (clientId: string) =>
  call(() => api.GET('/api/v1/admin/clients/{client_id}/audit', { params: { path: { client_id: clientId } } }));

// CMDB
export const createAsset = (body: AssetRequest) => call(() => api.POST('/api/v1/admin/assets', { body }));
export const updateAsset = (id: string, body: AssetRequest) =>
  call(() => api.PATCH('/api/v1/admin/assets/{id}', { params: { path: { id } }, body }));
export const deleteAsset = (id: string) => call(() => api.DELETE('/api/v1/admin/assets/{id}', { params: { path: { id } } }), true as const);

export interface ImportSummary {
  created: number;
  updated: number;
  imported: number;
}
export const importAssets = (csv: string) =>
  call<ImportSummary>(async () => {
    const r = await api.POST('/api/v1/admin/assets/import', {
      body: csv,
      bodySerializer: (b: string) => b,
      headers: { 'Content-Type': 'text/csv' },
      parseAs: 'json',
    });
    return { data: r.data as ImportSummary | undefined, error: r.error, response: r.response };
  });

// Dead letters
export const listDeadLetters = (before?: number, limit = 50) =>
  call(() => api.GET('/api/v1/admin/dead-letters', { params: { query: { limit, ...(before !== undefined ? { before } : {}) } } }));
export const getDeadLetter = (id: number) => call(() => api.GET('/api/v1/admin/dead-letters/{id}', { params: { path: { id } } }));
