import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { ErrorMessage, Loading } from "./components/feedback";
import { Layout } from "./components/layout";
import { useSession } from "./lib/session";
import { AccountPage } from "./pages/account";
import { AuditPage } from "./pages/audit";
import { BackupsPage } from "./pages/backups";
import { ChatPage } from "./pages/chat";
import { ChoosePasswordPage } from "./pages/choose-password";
import { DataPage } from "./pages/data";
import { DocumentsPage } from "./pages/documents";
import { KeysPage } from "./pages/keys";
import { LoginPage } from "./pages/login";
import { MembersPage } from "./pages/members";
import { NotFoundPage } from "./pages/not-found";
import { OverviewPage } from "./pages/overview";
import { SearchPage } from "./pages/search";
import { TenantLayout } from "./pages/tenant-layout";
import { TenantsPage } from "./pages/tenants";
import { UsagePage } from "./pages/usage";
import { UsersPage } from "./pages/users";
import { WidgetsPage } from "./pages/widgets";

function RequireSession({ children }: { children: ReactNode }) {
  const { token, me, isLoading, error, retry } = useSession();
  const location = useLocation();
  if (!token) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (error && !me) {
    return (
      <main id="main" className="centered">
        <ErrorMessage title="Could not check your session" error={error} onRetry={retry} />
      </main>
    );
  }
  if (isLoading || !me) {
    return (
      <main id="main" className="centered">
        <Loading label="Checking your session…" />
      </main>
    );
  }
  // A password an administrator set opens nothing but the choice of one's own (the server agrees).
  if (me.kind === "user" && me.mustChangePassword) return <ChoosePasswordPage />;
  return <>{children}</>;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/tenants" replace />} />
        <Route path="tenants" element={<TenantsPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="users" element={<UsersPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="tenants/:tenantId" element={<TenantLayout />}>
          <Route index element={<OverviewPage />} />
          <Route path="keys" element={<KeysPage />} />
          <Route path="documents" element={<DocumentsPage />} />
          <Route path="data" element={<DataPage />} />
          <Route path="search" element={<SearchPage />} />
          <Route path="chat" element={<ChatPage />} />
          <Route path="widget" element={<WidgetsPage />} />
          <Route path="usage" element={<UsagePage />} />
          <Route path="members" element={<MembersPage />} />
          <Route path="backups" element={<BackupsPage />} />
          <Route path="audit" element={<AuditPage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
