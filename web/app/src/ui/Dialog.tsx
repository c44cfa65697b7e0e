// A modal on the native <dialog> (focus kept inside, Escape closes, the
// page behind is inert), named by its title.
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Dialog({
  open,
  onClose,
  title,
  children,
  wide,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-title`}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={`panel m-auto mt-[12vh] p-0 text-fg shadow-2xl ${wide ? 'w-[min(44rem,92vw)]' : 'w-[min(30rem,92vw)]'}`}
    >
      {open && (
        <div className="p-4">
          <h2 id={`${id}-title`} className="mb-3 text-sm font-semibold">
            {title}
          </h2>
          {children}
        </div>
      )}
    </dialog>
  );
}
