/**
 * `mpg tools <server>`: the server's tool catalogue with risk classes (docs/catalogue.md), and
 * `tools classify|unclassify` for the category overrides.
 */
import type { Command } from "commander";
import { CATEGORIES } from "../../catalogue/classify";
import { segment } from "../admin-api";
import { action, emit, type Cli } from "../context";
import { usageError } from "../failure";
import { count, printable, table, type Palette } from "../style";

interface ToolView {
  name: string;
  title: string | null;
  description: string | null;
  classification: { category: string; risk: string; reasons: string[]; conflict: boolean };
  override: { category: string; set: string } | null;
  category: string;
  risk: string;
  recommended: { allowed: boolean; rules: { limits?: { max: number; window: string }[] } | null; explanation: string };
}

interface CatalogueView {
  serverId: string;
  fetched: string | null;
  protocolVersion: string | null;
  stale: boolean;
  lastAttempt: { outcome: string; error?: { code: string; message: string } } | null;
  tools: ToolView[];
}

function riskColour(risk: string, colours: Palette): string {
  if (risk === "low") return colours.green(risk);
  if (risk === "medium") return colours.yellow(risk);
  if (risk === "high") return colours.red(risk);
  if (risk === "critical") return colours.bold(colours.red(risk));
  return risk;
}

function recommendation(tool: ToolView, colours: Palette): string {
  if (!tool.recommended.allowed) return colours.dim("deny");
  const limit = tool.recommended.rules?.limits?.[0];
  return limit === undefined ? "allow" : `${limit.max}/${limit.window}`;
}

function notes(tool: ToolView): string {
  const parts: string[] = [];
  if (tool.override !== null) parts.push(`override (classifier: ${tool.classification.category})`);
  if (tool.classification.conflict) parts.push("annotations disagree");
  return parts.join("; ");
}

function catalogueTable(catalogue: CatalogueView, wide: boolean, colours: Palette): string {
  if (catalogue.fetched === null) {
    const failure = catalogue.lastAttempt?.error;
    return (
      `No tools of ${catalogue.serverId} discovered yet` +
      (failure === undefined ? "" : ` (last attempt: ${failure.code}: ${printable(failure.message)})`) +
      `. Run: mpg servers discover ${catalogue.serverId}\n`
    );
  }
  const headers = ["tool", "category", "risk", "recommended", "notes", ...(wide ? ["reasons"] : [])];
  const rows = catalogue.tools.map((tool) => [
    printable(tool.name),
    tool.category,
    riskColour(tool.risk, colours),
    recommendation(tool, colours),
    notes(tool),
    ...(wide ? [printable(tool.classification.reasons.join(" "))] : []),
  ]);
  const summary = `${count(catalogue.tools.length, "tool")} of ${catalogue.serverId}, fetched ${catalogue.fetched} (protocol ${catalogue.protocolVersion})`;
  const stale = catalogue.stale
    ? colours.yellow(`stale: fetched before the server's URL or headers changed; run mpg tools ${catalogue.serverId} --discover\n`)
    : "";
  return `${table(headers, rows, colours) + colours.dim(summary)}\n${stale}`;
}

export function registerTools(program: Command, cli: Cli): void {
  const tools = showTools(program, cli);
  classifyTool(tools, cli);
  unclassifyTool(tools, cli);
}

function showTools(program: Command, cli: Cli): Command {
  return program
    .command("tools")
    .description("A server's tools with their risk classes and recommended rules")
    .argument("<server>", "the server id")
    .option("--discover", "fetch the tools from the upstream first")
    .option("--wide", "also show the classifier's reasons")
    .addHelpText(
      "after",
      `
Examples:
  $ mpg tools crm
  $ mpg tools crm --discover --wide
  $ mpg tools classify crm sync_accounts execute
  $ mpg tools unclassify crm sync_accounts`,
    )
    .action(
      action<{ discover?: boolean; wide?: boolean }>(async ([server], options) => {
        const api = await cli.gateway(options);
        // A failed discovery is a 502 refusal; the previous snapshot stays and is not shown.
        if (options.discover) await api.post(`/servers/${segment(server!)}/discover`);
        const catalogue = await api.get<CatalogueView>(`/servers/${segment(server!)}/tools`);
        emit(cli, options, catalogue, () => catalogueTable(catalogue, options.wide === true, cli.terminal.stdout));
      }),
    );
}

function classifyTool(tools: Command, cli: Cli): void {
  tools
    .command("classify")
    .description(`Override a tool's category (${CATEGORIES.join(", ")}); kept across re-discovery`)
    .argument("<server>", "the server id")
    .argument("<tool>", "the tool name")
    .argument("<category>", CATEGORIES.join(" | "))
    .addHelpText("after", "\nExample:\n  $ mpg tools classify crm sync_accounts execute")
    .action(
      action(async ([server, tool, category], options) => {
        if (!(CATEGORIES as readonly string[]).includes(category!)) throw usageError(`<category> must be one of ${CATEGORIES.join(", ")}`);
        const api = await cli.gateway(options);
        const view = await api.put<ToolView>(`/servers/${segment(server!)}/tools/${segment(tool!)}/classification`, { json: { category } });
        emit(
          cli,
          options,
          view,
          () =>
            `${cli.terminal.stdout.green("✓")} ${printable(view.name)} is now ${view.category} (risk ${view.risk}); the classifier said ${view.classification.category}\n`,
        );
      }),
    );
}

function unclassifyTool(tools: Command, cli: Cli): void {
  tools
    .command("unclassify")
    .description("Drop a tool's category override")
    .argument("<server>", "the server id")
    .argument("<tool>", "the tool name")
    .addHelpText("after", "\nExample:\n  $ mpg tools unclassify crm sync_accounts")
    .action(
      action(async ([server, tool], options) => {
        const api = await cli.gateway(options);
        const view = await api.delete<ToolView>(`/servers/${segment(server!)}/tools/${segment(tool!)}/classification`);
        emit(cli, options, view, () => `${cli.terminal.stdout.green("✓")} ${printable(view.name)} is ${view.category} (risk ${view.risk}), as classified\n`);
      }),
    );
}
