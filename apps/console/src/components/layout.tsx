import { NavLink, Outlet, useLocation } from "react-router";
import { useSession } from "../lib/session";
import { ErrorBoundary } from "./error-boundary";

/** The signed-in frame: header (brand, who, log out), the main navigation, and the page. */
export function Layout() {
  const { me, isOperator, signOut } = useSession();
  const location = useLocation();
  const who = me?.kind === "user" ? me.email : me?.kind === "apiKey" ? `key ${me.keyId}` : "";
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/tenants" className="brand" aria-label="VDB console home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path
              d="M8 10l8 14 8-14"
              stroke="white"
              strokeWidth="3.5"
              fill="none"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <span>VDB</span>
        </NavLink>
        <nav className="mainnav" aria-label="Main">
          <NavLink to="/tenants">Tenants</NavLink>
          {isOperator ? <NavLink to="/users">Users</NavLink> : null}
          {isOperator ? <NavLink to="/audit">Audit log</NavLink> : null}
          <a href="/api/v1/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
        </nav>
        <div className="whoami">
          <span className="muted" title={who}>
            {who}
            {isOperator ? <span className="badge badge-info role-badge">operator</span> : null}
          </span>
          <NavLink to="/account" className="account-link">
            Account
          </NavLink>
          <button type="button" className="secondary small-button" onClick={() => void signOut()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
