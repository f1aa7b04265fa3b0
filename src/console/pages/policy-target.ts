/**
 * What every policy page under /console/servers/:id/policies/:name works on: the server, its
 * catalogue as the builder's rows, and the policy's latest version (null for a new name).
 */
import type { Context } from "hono";
import type { PolicyDocument } from "../../policy/schema";
import { adminFor, valueOrThrow } from "../admin-client";
import { argumentPaths, type BuilderUrls, type ToolFacts } from "../builder/view";
import type { ConsoleEnv } from "../guard";
import type { CatalogueView } from "./catalogue-tools";
import type { ServerSummary } from "./servers";

export interface PolicyAnswer {
  name: string;
  version: number;
  document: PolicyDocument;
  updated: string;
}

export interface Target {
  server: ServerSummary;
  name: string;
  base: string;
  urls: BuilderUrls;
  facts: Map<string, ToolFacts>;
  toolNames: string[];
  current: PolicyAnswer | null;
}

/** The admin API's path of a policy name. */
export const apiBase = (serverId: string, name: string) => `/servers/${encodeURIComponent(serverId)}/policies/${encodeURIComponent(name)}`;

/** The server, its catalogue (as the builder's rows) and the policy's latest version, if any. */
export async function loadTarget(c: Context<ConsoleEnv>): Promise<Target> {
  const admin = adminFor(c);
  const serverId = c.req.param("id") ?? "";
  const name = c.req.param("name") ?? "";
  const server = valueOrThrow(await admin<ServerSummary>("GET", `/servers/${encodeURIComponent(serverId)}`));
  const [tools, current] = await Promise.all([
    admin<CatalogueView>("GET", `/servers/${encodeURIComponent(server.id)}/tools`),
    admin<PolicyAnswer>("GET", apiBase(server.id, name)),
  ]);
  // A name the API refuses (invalid_policy_name) is shown as its error, not as a new policy.
  if (!current.ok && current.error.error !== "policy_not_found") valueOrThrow(current);
  const facts = new Map<string, ToolFacts>();
  for (const tool of valueOrThrow(tools).tools) {
    facts.set(tool.name, { risk: tool.risk, category: tool.category, description: tool.description, paths: argumentPaths(tool.definition.inputSchema) });
  }
  const base = `/console${apiBase(server.id, name)}`;
  return {
    server,
    name,
    base,
    urls: { json: `${base}/json`, form: `${base}/form`, edit: `${base}/edit`, review: `${base}/review` },
    facts,
    toolNames: [...facts.keys()],
    current: current.ok ? current.value : null,
  };
}
