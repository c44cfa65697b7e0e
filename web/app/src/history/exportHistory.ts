// The ticket's whole history as stored (GET /api/v1/tickets/{id}/history,
// what `ticketera replay` folds from): downloaded as a file for the auditor,
// and read for the request ids (metadata.correlation_id), which the GraphQL
// TicketEvent does not carry.
import { api } from '../api/rest';
import type { components } from '../api/openapi';

export type HistoryExport = components['schemas']['HistoryExport'];

/** The file an export is saved as: named after the ticket number. */
export function exportFileName(number: string): string {
  return `${number.replace(/[^A-Za-z0-9_-]+/g, '_')}-history.json`;
}

async function fetchExport(id: string): Promise<Blob> {
  const { data, response } = await api.GET('/api/v1/tickets/{id}/history', {
    params: { path: { id } },
    parseAs: 'blob',
  });
  if (!response.ok || !data) throw new Error(`HTTP ${response.status}`);
  return data;
}

/** Downloads the export of ticket `id` as `<number>-history.json`. */
export async function downloadHistory(id: string, number: string): Promise<void> {
  const blob = await fetchExport(id);
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/json' }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = exportFileName(number);
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The click has handed the blob to the download by now.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** sequence → request id (the event's metadata.correlation_id), from the export. */
export function requestIdsOf(doc: HistoryExport): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of doc.events) {
    const meta = e.metadata as Record<string, unknown>;
    const id = meta.correlation_id;
    if (typeof id === 'string' && id) out.set(e.sequence, id);
  }
  return out;
}

export async function loadRequestIds(id: string): Promise<Map<number, string>> {
  const blob = await fetchExport(id);
  return requestIdsOf(JSON.parse(await blob.text()) as HistoryExport);
}
