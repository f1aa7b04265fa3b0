import { Hono } from "hono";
import policyJsonSchema from "../docs/policy.schema.json";
import { admin } from "./admin/routes";
import { auditKeyDocument } from "./audit/signing";
import { consoleApp } from "./console/routes";
import { createGateway } from "./gateway/route";

/** The Worker's one Hono app: the MCP gateway under /mcp, the admin API under /admin, the operator console under /console. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ name: "mcp-policy-gateway", mcp: "/mcp/<grant-id>", admin: "/admin", console: "/console" }));
// Public, so editors can fetch it for a policy.json that names it in "$schema" (docs/policy.md).
app.get("/schema/policy-v1.json", (c) => c.json(policyJsonSchema, 200, { "cache-control": "public, max-age=3600" }));
// Public: the keys an auditor verifies exports and checkpoints with (docs/audit.md, "Keys and rotation").
app.get("/.well-known/mcp-policy-gateway/audit-keys", async (c) => {
  const document = await auditKeyDocument(c.env);
  if (!document.ok) return c.json({ error: "audit_key_invalid", message: "AUDIT_SIGNING_KEY is set but cannot be used" }, 503);
  return c.json(document.value, 200, { "cache-control": "public, max-age=300" });
});
app.route("/mcp", createGateway());
app.route("/admin", admin);
app.route("/console", consoleApp);
app.notFound((c) => c.json({ error: "not_found", message: "No such route" }, 404));
app.onError((error, c) => {
  // Never echo internals (they may carry upstream headers or argument values).
  console.error("unhandled error", error instanceof Error ? error.name : typeof error);
  return c.json({ error: "internal", message: "Internal error" }, 500);
});
