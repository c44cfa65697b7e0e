// A day field that reads and shows dates in the UI language's order
// (dateText.ts says why not <input type="date">), with the browser's own
// calendar still one button away.
import { useId, useState } from 'react';
import { CalendarButton } from '../ui/CalendarButton';
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
        <CalendarButton
          kind="date"
          label={t('dashboard.dateField.pick', { field: label })}
          value={() => value?.slice(0, 10) ?? ''}
          onPick={(day) => {
            setInvalid(false);
            setDraft(null);
            onCommit(day || undefined);
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
