import type { PasswordChanged } from "@vdb/schemas/auth";
import { useState } from "react";
import { Notice } from "../components/feedback";
import { PasswordForm } from "../components/password-form";
import { useSession } from "../lib/session";

/** The signed-in user's own account: who they are, and a password change. */
export function AccountPage() {
  const { me } = useSession();
  const [changed, setChanged] = useState<PasswordChanged | null>(null);
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Account</h1>
          <p className="muted">{me?.kind === "user" ? me.email : "Signed in with an API key"}</p>
        </div>
      </div>
      <section className="panel" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        {me?.kind !== "user" ? (
          <p className="muted">Passwords belong to console users; an API key has none.</p>
        ) : (
          <>
            <PasswordForm onChanged={setChanged} />
            {changed ? (
              <Notice tone="success">
                Password changed.{" "}
                {changed.endedSessions > 0
                  ? `Your ${changed.endedSessions} other session(s) were logged out.`
                  : "You had no other sessions."}
              </Notice>
            ) : null}
          </>
        )}
      </section>
    </>
  );
}
