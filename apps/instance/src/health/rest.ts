import { createRoute } from "@hono/zod-openapi";
import { jsonContent } from "@vdb/http/openapi";
import { InstanceHealth } from "@vdb/schemas/instances";
import { restApp } from "../rest/openapi";
import { getHealth } from "./get-health";

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary: "Configuration and status (no token needed): 200 when Chroma answers, 503 when degraded",
  responses: {
    200: jsonContent(InstanceHealth, "Healthy"),
    503: jsonContent(InstanceHealth, "Degraded: Chroma is not answering"),
  },
});

export const healthRest = restApp().openapi(health, async (c) => {
  const report = await getHealth({ ctx: c.get("services") });
  return report.status === "ok" ? c.json(report, 200) : c.json(report, 503);
});
