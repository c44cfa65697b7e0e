// The ticket's whole history as stored (GET /api/v1/tickets/{id}/history,
// what `ticketera replay` folds from), downloaded as a file for the auditor.
import { api } from '../api/rest';

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
