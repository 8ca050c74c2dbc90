import { useMutation } from "@tanstack/react-query";
import { LoginInput } from "@vdb/schemas/auth";
import { type FormEvent, useState } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { Field, FormError } from "../components/field";
import { errorMessage } from "../lib/errors";
import { useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

export function LoginPage() {
  const { token, signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/tenants";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const login = useMutation({
    mutationFn: (input: LoginInput) => trpc.auth.login.mutate(input),
    onSuccess: (session) => {
      signIn(session.token);
      navigate(from === "/login" ? "/tenants" : from, { replace: true });
    },
  });

  if (token) return <Navigate to="/tenants" replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(LoginInput, { email, password });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    login.mutate(result.data);
  };

  return (
    <div className="login-page">
      <header className="login-header">
        <svg viewBox="0 0 32 32" width="40" height="40" aria-hidden="true" className="brand-mark">
          <rect width="32" height="32" rx="7" fill="currentColor" />
          <path d="M8 10l8 14 8-14" stroke="white" strokeWidth="3.5" fill="none" strokeLinecap="round" />
        </svg>
        <h1>VDB console</h1>
        <p className="muted">Vector databases for every tenant</p>
      </header>
      <nav aria-label="Help" className="login-help">
        <a href="/api/v1/docs">API documentation</a>
      </nav>
      <main id="main" className="login-main">
        <form className="panel login-form" onSubmit={submit} noValidate aria-labelledby="login-title">
          <h2 id="login-title">Log in</h2>
          <Field label="Email" error={errors.email}>
            {(props) => (
              <input
                {...props}
                type="email"
                name="email"
                autoComplete="username"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            )}
          </Field>
          <Field label="Password" error={errors.password}>
            {(props) => (
              <input
                {...props}
                type="password"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <FormError message={login.error ? errorMessage(login.error) : undefined} />
          <button type="submit" className="wide" disabled={login.isPending}>
            {login.isPending ? "Logging in…" : "Log in"}
          </button>
          <p className="hint">
            The first operator's password is printed once when the platform first starts (or set with{" "}
            <code>VDB_ADMIN_PASSWORD</code>).
          </p>
        </form>
      </main>
    </div>
  );
}
