import { Hono } from "hono";
import { admin } from "./admin/routes";
import { createGateway } from "./gateway/route";

/** The Worker's one Hono app: the MCP gateway under /mcp, the admin API under /admin. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ name: "mcp-policy-gateway", mcp: "/mcp/<grant-id>", admin: "/admin" }));
app.route("/mcp", createGateway());
app.route("/admin", admin);
app.notFound((c) => c.json({ error: "not_found", message: "No such route" }, 404));
app.onError((error, c) => {
  // Never echo internals (they may carry upstream headers or argument values).
  console.error("unhandled error", error instanceof Error ? error.name : typeof error);
  return c.json({ error: "internal", message: "Internal error" }, 500);
});
