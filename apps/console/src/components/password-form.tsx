import { useMutation } from "@tanstack/react-query";
import { ChangePasswordInput, type PasswordChanged } from "@vdb/schemas/auth";
import { type FormEvent, useState } from "react";
import { errorCode, errorMessage, serverFieldErrors } from "../lib/errors";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";
import { Field, FormError } from "./field";

/**
 * The signed-in user's password change: current, new, the new one repeated. Used by the Account
 * page and by the first login with a password an administrator set (`currentLabel` then names it).
 */
export function PasswordForm({
  currentLabel = "Current password",
  submitLabel = "Change password",
  onChanged,
}: {
  currentLabel?: string;
  submitLabel?: string;
  onChanged: (changed: PasswordChanged) => void;
}) {
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const change = useMutation({
    mutationFn: (input: ChangePasswordInput) => trpc.auth.changePassword.mutate(input),
    onSuccess: (changed) => {
      setCurrentPassword("");
      setNewPassword("");
      setRepeated("");
      onChanged(changed);
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
    <form className="stack narrow-form" onSubmit={submit} noValidate>
      <Field label={currentLabel} error={errors.currentPassword}>
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
      <div>
        <button type="submit" disabled={change.isPending}>
          {change.isPending ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
