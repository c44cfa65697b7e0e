// The browser's own calendar, one button away from a typed date field: the
// field is text in the UI language's order (queue/dateText.ts says why), and
// what the hidden native input draws is never shown, only what it picks.
import { useRef } from 'react';

export function CalendarButton({
  kind,
  label,
  value,
  onPick,
}: {
  kind: 'date' | 'datetime-local';
  label: string;
  /** The native input's value when the calendar opens (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss). */
  value: () => string;
  onPick: (value: string) => void;
}) {
  const picker = useRef<HTMLInputElement>(null);
  return (
    <>
      <button
        type="button"
        className="btn btn-ghost absolute right-1 !h-[24px] !w-[24px] justify-center !p-0 text-muted"
        aria-label={label}
        title={label}
        onClick={() => {
          const p = picker.current;
          if (!p) return;
          p.value = value();
          if (typeof p.showPicker === 'function') p.showPicker();
        }}
      >
        <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3.5 fill-none stroke-current" strokeWidth="1.5">
          <rect x="2" y="3" width="12" height="11" rx="1.5" />
          <path d="M2 6.5h12M5.5 1.5v3M10.5 1.5v3" />
        </svg>
      </button>
      <input
        ref={picker}
        type={kind}
        step={kind === 'datetime-local' ? 1 : undefined}
        tabIndex={-1}
        aria-hidden="true"
        className="pointer-events-none absolute bottom-0 right-0 h-px w-px opacity-0"
        onChange={(e) => onPick(e.target.value)}
      />
    </>
  );
}
