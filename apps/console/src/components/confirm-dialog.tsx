import { type ReactNode, useEffect, useId, useRef, useState } from "react";

/**
 * A modal confirmation (native `<dialog>`: focus is kept inside, Escape cancels). With
 * `confirmText`, the person must type it first (deleting a tenant asks for its slug).
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  confirmText,
  isBusy,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  confirmText?: string;
  isBusy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  const titleId = useId();
  const inputId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setTyped("");
      dialog.showModal();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);

  const isConfirmable = confirmText === undefined || typed === confirmText;
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (isConfirmable) onConfirm();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <div className="dialog-body">{children}</div>
        {confirmText !== undefined ? (
          <div className="field">
            <label htmlFor={inputId}>
              Type <code>{confirmText}</code> to confirm
            </label>
            <input id={inputId} value={typed} autoComplete="off" onChange={(e) => setTyped(e.target.value)} />
          </div>
        ) : null}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={!isConfirmable || isBusy}>
            {isBusy ? "Working…" : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
