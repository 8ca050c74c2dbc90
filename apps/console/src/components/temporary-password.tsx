import type { ReactNode } from "react";
import { CopyButton } from "./copy-button";

/**
 * A temporary password the server returned once (an invite, an added user, a reset), with what
 * to do with it: shown like an API key's secret, with a copy button and a "handed over" dismiss.
 */
export function TemporaryPasswordPanel({
  title,
  email,
  password,
  onDismiss,
  children,
}: {
  title: string;
  email: string;
  password: string;
  onDismiss: () => void;
  children?: ReactNode;
}) {
  return (
    <section className="panel secret-panel" aria-labelledby="temporary-password-title">
      <h2 id="temporary-password-title">{title}</h2>
      <p>
        Give them this temporary password: <strong>it is shown only this once</strong>. Their first login with
        it asks them to choose their own.
      </p>
      {children}
      <div className="secret">
        <label htmlFor="temporary-password" className="visually-hidden">
          Temporary password for {email}
        </label>
        <input
          id="temporary-password"
          readOnly
          value={password}
          className="mono"
          onFocus={(e) => e.target.select()}
          data-testid="temporary-password"
        />
        <CopyButton text={password} label="Copy password" />
      </div>
      <button type="button" className="secondary small-button" onClick={onDismiss}>
        I have handed it over — hide
      </button>
    </section>
  );
}
