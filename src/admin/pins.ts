/**
 * /admin/servers/:id/pins and …/tools/:tool/approve: tool pinning (docs/policy.md, "Tool
 * pinning"). The server's Durable Object holds the pinned definitions and the quarantine; an
 * approval there is pushed to every grant of the server before this answers.
 */
import { Hono } from "hono";
import { overridableToolName } from "../store/catalogue";
import { validate } from "./body";
import { AdminError } from "./errors";
import type { PinsView } from "../server/object";
import { callServer } from "./server-object";
import { requireServer } from "./servers";

export const pins = new Hono<{ Bindings: Env }>();

pins.get("/servers/:id/pins", async (c) => {
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  const view = await callServer(c.env, server.id, (object) => object.pinsView() as Promise<PinsView>);
  return c.json({ serverId: server.id, ...view });
});

pins.post("/servers/:id/tools/:tool/approve", async (c) => {
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  const tool = validate(overridableToolName, c.req.param("tool"), "invalid_tool_name");
  const result = await callServer(c.env, server.id, (object) => object.approveTool(server.id, tool) as Promise<{ ok: boolean }>);
  if (!result.ok)
    throw new AdminError(409, "tool_not_quarantined", `Tool ${JSON.stringify(tool)} of server ${server.id} is not quarantined; there is nothing to approve`);
  return c.json({ serverId: server.id, tool, approved: true });
});
