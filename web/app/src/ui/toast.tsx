// Short notices (a command's outcome), announced politely.
import { useSyncExternalStore } from 'react';

export interface Toast {
  id: number;
  text: string;
  tone: 'ok' | 'error';
}
let toasts: Toast[] = [];
let next = 1;
const listeners = new Set<() => void>();
function emit() {
  for (const l of listeners) l();
}

export function toast(text: string, tone: Toast['tone'] = 'ok'): void {
  const t = { id: next++, text, tone };
  toasts = [...toasts.slice(-3), t];
  emit();
  setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== t.id);
    emit();
  }, 6000);
}

export function Toasts() {
  const list = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => toasts,
  );
  return (
    <div role="status" aria-live="polite" className="pointer-events-none fixed bottom-4 right-4 z-50 flex flex-col gap-2">
      {list.map((t) => (
        <div
          key={t.id}
          className={`pointer-events-auto rounded-md border px-3 py-2 text-[0.8125rem] shadow-lg ${
            t.tone === 'ok' ? 'border-[#235a40] bg-[#0f241a] text-[#b9f0d2]' : 'border-[#7a3535] bg-[#2a1416] text-[#ffc9c9]'
          }`}
        >
          {t.text}
        </div>
      ))}
    </div>
  );
}
