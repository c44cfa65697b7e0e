// The router's search (de)serialization: plain key=value pairs, lists
// comma-separated, so a queue view is a readable, shareable link.
export function parseSearchString(search: string): Record<string, unknown> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search.startsWith('?') ? search.slice(1) : search)) out[k] = v;
  return out;
}

export function stringifySearchObject(obj: Record<string, unknown>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = p.toString().replace(/%2C/g, ',');
  return s ? `?${s}` : '';
}
