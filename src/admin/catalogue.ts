/**
 * The tool catalogue of a server (docs/catalogue.md):
 *   POST /servers/:id/discover                              fetch the upstream's tools now
 *   GET  /servers/:id/tools                                 the snapshot, each tool classified
 *   PUT  /servers/:id/tools/:tool/classification            override a tool's category
 *   DELETE /servers/:id/tools/:tool/classification          drop the override
 *   GET  /servers/:id/tools/:tool/recommended-policy        one tool's recommended policy
 *   GET  /servers/:id/recommended-policy                    the whole server's
 * Classification is computed on read (it is pure and cheap), so an improved classifier applies to
 * stored snapshots at once; only discoveries and overrides are stored.
 */
import { Hono } from "hono";
import { z } from "zod";
import { CATEGORIES, classifyTool, overriddenClassification, type Category, type Classification, type Risk } from "../catalogue/classify";
import { explanationsOf, recommendedPolicy, recommendForTool, type ToolRecommendation } from "../catalogue/recommend";
import { refreshCatalogue } from "../catalogue/refresh";
import { checkPins } from "./server-object";
import {
  getCatalogue,
  getToolOverrides,
  overridableToolName,
  putToolOverrides,
  type CatalogueRecord,
  type SnapshotTool,
  type ToolOverride,
} from "../store/catalogue";
import type { ServerRecord } from "../store/servers";
import { readBody, validate } from "./body";
import { AdminError } from "./errors";
import { requireServer } from "./servers";

export const catalogue = new Hono<{ Bindings: Env }>();

const SetClassification = z.strictObject({ category: z.enum(CATEGORIES) });

interface ToolView {
  name: string;
  title: string | null;
  description: string | null;
  fingerprint: string;
  definition: SnapshotTool["definition"];
  /** What the classifier says, with its evidence. */
  classification: Omit<Classification, "raises">;
  override: ToolOverride | null;
  /** What the gateway goes by: the override's category if there is one, else the classifier's. */
  category: Category;
  risk: Risk;
  recommended: { allowed: boolean; rules: ToolRecommendation["rules"]; explanation: string };
}

function toolView(tool: SnapshotTool, override: ToolOverride | null): ToolView {
  const { raises, ...classification } = classifyTool(tool.definition);
  const effective =
    override === null
      ? { category: classification.category, risk: classification.risk }
      : overriddenClassification({ ...classification, raises }, override.category);
  const recommendation = recommendForTool(tool.definition.name, effective.category);
  return {
    name: tool.definition.name,
    title: tool.definition.title ?? tool.definition.annotations?.title ?? null,
    description: tool.definition.description ?? null,
    fingerprint: tool.fingerprint,
    definition: tool.definition,
    classification,
    override,
    ...effective,
    recommended: { allowed: recommendation.rules !== null, rules: recommendation.rules, explanation: recommendation.explanation },
  };
}

interface Catalogue {
  server: ServerRecord;
  record: CatalogueRecord | null;
  overrides: Map<string, ToolOverride>;
}

async function readCatalogue(kv: KVNamespace, serverId: string): Promise<Catalogue> {
  const server = await requireServer(kv, serverId);
  const [record, overrides] = await Promise.all([getCatalogue(kv, server.id), getToolOverrides(kv, server.id)]);
  return { server, record, overrides };
}

function requireSnapshot({ server, record }: Catalogue): NonNullable<CatalogueRecord["snapshot"]> {
  if (record?.snapshot == null) {
    throw new AdminError(
      409,
      "catalogue_empty",
      `No tools of server ${server.id} have been discovered yet${record === null ? "" : ` (last attempt: ${record.lastAttempt.outcome === "failed" ? record.lastAttempt.error.message : "ok"})`}; POST /admin/servers/${server.id}/discover`,
    );
  }
  return record.snapshot;
}

function requireTool(catalogue: Catalogue, name: string): SnapshotTool {
  const tool = requireSnapshot(catalogue).tools.find((t) => t.definition.name === name);
  if (tool === undefined) throw new AdminError(404, "tool_not_found", `Server ${catalogue.server.id} lists no tool ${JSON.stringify(name)} in its catalogue`);
  return tool;
}

const viewOf = (catalogue: Catalogue, tool: SnapshotTool): ToolView => toolView(tool, catalogue.overrides.get(tool.definition.name) ?? null);

catalogue.post("/servers/:id/discover", async (c) => {
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  const discovery = await refreshCatalogue(c.env.RECORDS, server);
  if (discovery.outcome === "failed") {
    throw new AdminError(502, "discovery_failed", `Discovering the tools of server ${server.id} failed: ${discovery.error.message}`, discovery);
  }
  return c.json({ serverId: server.id, discovery, quarantined: await checkPins(c.env, server.id) });
});

catalogue.get("/servers/:id/tools", async (c) => {
  const found = await readCatalogue(c.env.RECORDS, c.req.param("id"));
  const snapshot = found.record?.snapshot ?? null;
  return c.json({
    serverId: found.server.id,
    fetched: snapshot?.fetched ?? null,
    protocolVersion: snapshot?.protocolVersion ?? null,
    serverVersion: snapshot?.serverVersion ?? null,
    // Fetched from an older URL or credentials than the server has now.
    stale: snapshot !== null && snapshot.serverVersion !== found.server.version,
    lastAttempt: found.record?.lastAttempt ?? null,
    tools: (snapshot?.tools ?? []).map((tool) => viewOf(found, tool)),
  });
});

catalogue.put("/servers/:id/tools/:tool/classification", async (c) => {
  const found = await readCatalogue(c.env.RECORDS, c.req.param("id"));
  const name = validate(overridableToolName, c.req.param("tool"), "invalid_tool_name");
  const tool = requireTool(found, name);
  const { category } = await readBody(c, SetClassification);
  found.overrides.set(name, { category, set: new Date().toISOString() });
  await putToolOverrides(c.env.RECORDS, found.server.id, found.overrides);
  return c.json(viewOf(found, tool));
});

catalogue.delete("/servers/:id/tools/:tool/classification", async (c) => {
  const found = await readCatalogue(c.env.RECORDS, c.req.param("id"));
  const name = validate(overridableToolName, c.req.param("tool"), "invalid_tool_name");
  const tool = requireTool(found, name);
  if (found.overrides.delete(name)) await putToolOverrides(c.env.RECORDS, found.server.id, found.overrides);
  return c.json(viewOf(found, tool));
});

catalogue.get("/servers/:id/tools/:tool/recommended-policy", async (c) => {
  const found = await readCatalogue(c.env.RECORDS, c.req.param("id"));
  const view = viewOf(found, requireTool(found, c.req.param("tool")));
  const recommendation = recommendForTool(view.name, view.category);
  return c.json({
    serverId: found.server.id,
    tool: view.name,
    category: view.category,
    risk: view.risk,
    overridden: view.override !== null,
    policy: recommendedPolicy([recommendation]),
    explanations: explanationsOf([recommendation]),
  });
});

catalogue.get("/servers/:id/recommended-policy", async (c) => {
  const found = await readCatalogue(c.env.RECORDS, c.req.param("id"));
  const snapshot = requireSnapshot(found);
  const recommendations = snapshot.tools.map((tool) => {
    const view = viewOf(found, tool);
    return recommendForTool(view.name, view.category);
  });
  return c.json({
    serverId: found.server.id,
    fetched: snapshot.fetched,
    policy: recommendedPolicy(recommendations),
    explanations: explanationsOf(recommendations),
  });
});
