import { useQueryClient } from "@tanstack/react-query";
import { PasswordForm } from "../components/password-form";
import { useSession } from "../lib/session";

/**
 * The first login with a password an administrator set (an invite, a reset, the first start's
 * generated one): nothing else opens until the user has chosen their own; the server refuses
 * everything else to this session too.
 */
export function ChoosePasswordPage() {
  const { me, signOut } = useSession();
  const queryClient = useQueryClient();
  return (
    <div className="login-page">
      <header className="login-header">
        <h1 id="choose-title">Choose your password</h1>
        <p className="muted">{me?.kind === "user" ? me.email : null}</p>
      </header>
      <main id="main" className="login-main">
        <section className="panel login-form" aria-labelledby="choose-title">
          <p>
            You signed in with a temporary password an administrator set. Choose your own to continue: only
            you will know it.
          </p>
          <PasswordForm
            currentLabel="Temporary password"
            submitLabel="Save and continue"
            onChanged={() => void queryClient.invalidateQueries({ queryKey: ["auth.me"] })}
          />
          <button type="button" className="secondary small-button" onClick={() => void signOut()}>
            Log out
          </button>
        </section>
      </main>
    </div>
  );
}
