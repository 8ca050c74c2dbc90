import { PLANS } from "@vdb/schemas/plans";
import { Link, NavLink, Outlet } from "react-router";
import { QueryView } from "../components/feedback";
import { canWrite, useSession } from "../lib/session";
import { useTenant, useTenantId } from "../lib/use-tenant";

const TABS = [
  { to: "", label: "Overview", end: true },
  { to: "keys", label: "API keys" },
  { to: "documents", label: "Documents" },
  { to: "data", label: "Data" },
  { to: "search", label: "Search" },
  { to: "chat", label: "Chat" },
  { to: "widget", label: "Widget" },
  { to: "usage", label: "Usage" },
  { to: "members", label: "Members", needsAdmin: true },
  { to: "backups", label: "Backups" },
  { to: "audit", label: "Audit log" },
];

/** A tenant's screens: its name and plan, the tab bar, and the screen. */
export function TenantLayout() {
  const tenantId = useTenantId();
  const tenant = useTenant();
  const { me } = useSession();
  const isAdmin = canWrite(me, tenantId);
  return (
    <QueryView query={tenant} label="Loading tenant…">
      {(data) => (
        <>
          <div className="tenant-header">
            <p className="breadcrumb">
              <Link to="/tenants">Tenants</Link> <span aria-hidden="true">/</span>
            </p>
            <div className="tenant-title">
              <h1>{data.name}</h1>
              <span className="badge badge-plan">{PLANS[data.plan].title} plan</span>
            </div>
            <p className="muted small">
              <code>{data.slug}</code> · <code>{data.id}</code>
            </p>
          </div>
          <nav className="tabs" aria-label="Tenant sections">
            {TABS.filter((tab) => isAdmin || !tab.needsAdmin).map((tab) => (
              <NavLink key={tab.label} to={`/tenants/${tenantId}/${tab.to}`} end={tab.end ?? false}>
                {tab.label}
              </NavLink>
            ))}
          </nav>
          <div className="tab-content">
            <Outlet context={data} />
          </div>
        </>
      )}
    </QueryView>
  );
}
