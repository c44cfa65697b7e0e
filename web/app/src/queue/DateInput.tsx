// A day field that reads and shows dates in the UI language's order
// (dateText.ts says why not <input type="date">), with the browser's own
// calendar still one button away.
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { datePattern, formatDay, parseDay } from './dateText';

export function DateInput({
  id,
  label,
  value,
  onCommit,
}: {
  id: string;
  label: string;
  /** YYYY-MM-DD (or an instant: its day is shown). */
  value: string | undefined;
  onCommit: (day: string | undefined) => void;
}) {
  const { t, i18n } = useTranslation();
  const pattern = datePattern(i18n.language);
  const shown = formatDay(value, pattern);
  const [draft, setDraft] = useState<{ text: string; from: string } | null>(null);
  const [invalid, setInvalid] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const errId = useId();
  // A draft belongs to the value (and language) it was typed over: a new URL shows the new value.
  const text = draft && draft.from === `${shown}|${i18n.language}` ? draft.text : shown;

  const commit = () => {
    const parsed = parseDay(text, pattern);
    if (parsed === 'invalid') {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setDraft(null);
    if ((parsed ?? undefined) !== (value?.slice(0, 10) ?? undefined)) onCommit(parsed ?? undefined);
  };

  return (
    <div>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      <div className="relative flex w-fit items-center">
        <input
          id={id}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          lang={i18n.language}
          className="input w-36 pr-8"
          placeholder={pattern.placeholder}
          value={text}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? errId : undefined}
          onChange={(e) => {
            setDraft({ text: e.target.value, from: `${shown}|${i18n.language}` });
            if (invalid) setInvalid(false);
          }}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
          }}
        />
        <button
          type="button"
          className="btn btn-ghost absolute right-1 !h-[24px] !w-[24px] justify-center !p-0 text-muted"
          aria-label={t('dashboard.dateField.pick', { field: label })}
          onClick={() => {
            const p = picker.current;
            if (!p) return;
            p.value = value?.slice(0, 10) ?? '';
            if (typeof p.showPicker === 'function') p.showPicker();
          }}
        >
          <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3.5 fill-none stroke-current" strokeWidth="1.5">
            <rect x="2" y="3" width="12" height="11" rx="1.5" />
            <path d="M2 6.5h12M5.5 1.5v3M10.5 1.5v3" />
          </svg>
        </button>
        {/* The browser's calendar (what it draws in the field is not used). */}
        <input
          ref={picker}
          type="date"
          tabIndex={-1}
          aria-hidden="true"
          className="pointer-events-none absolute bottom-0 right-0 h-px w-px opacity-0"
          onChange={(e) => {
            setInvalid(false);
            setDraft(null);
            onCommit(e.target.value || undefined);
          }}
        />
      </div>
      {invalid && (
        <p id={errId} role="alert" className="mt-0.5 text-[0.6875rem] text-danger">
          {t('dashboard.dateField.invalid', { pattern: pattern.placeholder })}
        </p>
      )}
    </div>
  );
}
