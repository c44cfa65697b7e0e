// A tiny bus for app-wide commands (palette, shortcuts) that pages act on.
export type AppCommand = 'focus-search' | 'new-ticket' | 'shortcuts' | 'palette';
const listeners = new Set<(c: AppCommand) => void>();
let pending: AppCommand | null = null;

export function emitCommand(c: AppCommand): void {
  if (listeners.size === 0) pending = c;
  for (const l of listeners) l(c);
}

export function onCommand(fn: (c: AppCommand) => void): () => void {
  listeners.add(fn);
  if (pending) {
    const p = pending;
    pending = null;
    queueMicrotask(() => fn(p));
  }
  return () => listeners.delete(fn);
}

/** Whether a key event was typed into a field (shortcuts then stay out of the way). */
export function isTyping(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit'].includes(type);
  }
  return false;
}

export function dialogOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}
