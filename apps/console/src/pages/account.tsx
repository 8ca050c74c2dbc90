import { useMutation } from "@tanstack/react-query";
import { ChangePasswordInput } from "@vdb/schemas/auth";
import { type FormEvent, useState } from "react";
import { Notice } from "../components/feedback";
import { Field, FormError } from "../components/field";
import { errorCode, errorMessage, serverFieldErrors } from "../lib/errors";
import { useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

/** The signed-in user's own account: who they are, and a password change. */
export function AccountPage() {
  const { me } = useSession();
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const change = useMutation({
    mutationFn: (input: ChangePasswordInput) => trpc.auth.changePassword.mutate(input),
    onSuccess: () => {
      setCurrentPassword("");
      setNewPassword("");
      setRepeated("");
    },
    onError: (error) => setErrors(serverFieldErrors(error)),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.reset();
    const result = validate(ChangePasswordInput, { currentPassword, newPassword });
    if (!result.ok) return setErrors(result.errors);
    if (repeated !== newPassword) return setErrors({ repeated: "does not match the new password" });
    setErrors({});
    change.mutate(result.data);
  };

  const isFieldError = errorCode(change.error) === "VALIDATION_FAILED" && Object.keys(errors).length > 0;
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
          <form className="stack narrow-form" onSubmit={submit} noValidate>
            <Field label="Current password" error={errors.currentPassword}>
              {(props) => (
                <input
                  {...props}
                  type="password"
                  autoComplete="current-password"
                  value={currentPassword}
                  onChange={(e) => setCurrentPassword(e.target.value)}
                />
              )}
            </Field>
            <Field label="New password" error={errors.newPassword} hint="At least 10 characters.">
              {(props) => (
                <input
                  {...props}
                  type="password"
                  autoComplete="new-password"
                  value={newPassword}
                  onChange={(e) => setNewPassword(e.target.value)}
                />
              )}
            </Field>
            <Field label="Repeat the new password" error={errors.repeated}>
              {(props) => (
                <input
                  {...props}
                  type="password"
                  autoComplete="new-password"
                  value={repeated}
                  onChange={(e) => setRepeated(e.target.value)}
                />
              )}
            </Field>
            <FormError message={change.error && !isFieldError ? errorMessage(change.error) : undefined} />
            {change.isSuccess ? (
              <Notice tone="success">
                Password changed.{" "}
                {change.data.endedSessions > 0
                  ? `Your ${change.data.endedSessions} other session(s) were logged out.`
                  : "You had no other sessions."}
              </Notice>
            ) : null}
            <div>
              <button type="submit" disabled={change.isPending}>
                {change.isPending ? "Changing…" : "Change password"}
              </button>
            </div>
          </form>
        )}
      </section>
    </>
  );
}
