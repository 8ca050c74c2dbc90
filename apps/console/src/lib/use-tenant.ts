import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { trpc } from "./trpc";

/** The tenant id of the current route (`/tenants/:tenantId/…`). */
export function useTenantId(): string {
  const { tenantId } = useParams();
  if (!tenantId) throw new Error("This screen belongs under /tenants/:tenantId");
  return tenantId;
}

/** The current route's tenant, shared by every tenant screen through the query cache. */
export function useTenant() {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: ["tenants.get", tenantId],
    queryFn: () => trpc.tenants.get.query({ tenantId }),
  });
}
