/**
 * `policy lint`: a policy file checked before it ever reaches a gateway. Pure.
 *
 * Errors are exactly the gateway's: the text is decoded and parsed by the gateway's own strict
 * parser (src/mcp/json.ts: duplicate keys, case-duplicate keys, lone surrogates…) and validated by
 * its own schema (src/policy/schema.ts, which compiles every `regex` with RE2), so a file that lints
 * clean is a file `PUT /admin/servers/:id/policies/:name` accepts, with the same JSON-pointer
 * messages. A pattern RE2 refuses is therefore an error, as it is for the gateway.
 *
 * Warnings are what the gateway accepts but an author rarely means (docs/cli.md lists them):
 * a limit's counter that no other limit uses and that breaks the `<tool>_rate` convention (usually
 * a typo that splits a shared count), rules on a hidden tool, a `deny_if` negation that a missing
 * argument slips past, monitor mode, and — with the server's catalogue — tool names the upstream
 * does not list.
 */
import { parseStrictJson } from "../mcp/json";
import { editDistance } from "../policy/errors";
import { parsePolicy, pointer, type Condition, type PolicyDocument } from "../policy/schema";
import { jsonPositions, locate, positionAt, type Position } from "./json-positions";

/** The admin API's body limit, in bytes as sent (MAX_BODY_BYTES in src/admin/body.ts). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export type Severity = "error" | "warning";

export interface LintFinding {
  severity: Severity;
  /** `invalid_json` and `invalid_policy` are the gateway's codes; the others name a warning. */
  code: string;
  /** JSON pointer into the document; "" for the document itself. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface LintResult {
  /** The parsed policy, as the gateway would store it; null when there are errors. */
  document: PolicyDocument | null;
  errors: LintFinding[];
  warnings: LintFinding[];
}

/** The tools a server lists (GET /admin/servers/:id/tools), for the online checks. */
export interface ServerTools {
  serverId: string;
  tools: readonly string[];
}

const at = (position: Position | undefined) => (position === undefined ? {} : { line: position.line, column: position.column });

export function lintPolicy(text: string | null, byteLength: number, server: ServerTools | null = null): LintResult {
  const failed = (finding: Omit<LintFinding, "severity">): LintResult => ({ document: null, errors: [{ severity: "error", ...finding }], warnings: [] });
  if (text === null) return failed({ code: "invalid_json", path: "", message: "the file is not valid UTF-8" });
  if (byteLength > MAX_POLICY_BYTES) {
    return failed({ code: "body_too_large", path: "", message: `the file is ${byteLength} bytes; the gateway accepts at most ${MAX_POLICY_BYTES}` });
  }
  const json = parseStrictJson(text);
  if (!json.ok) {
    const { message, offset } = json.error;
    return failed({
      code: "invalid_json",
      path: "",
      message: `not valid JSON: ${message}`,
      ...at(offset === undefined ? undefined : positionAt(text, offset)),
    });
  }
  const positions = jsonPositions(text);
  const place = (finding: Omit<LintFinding, "line" | "column">): LintFinding => ({ ...finding, ...at(locate(positions, finding.path)) });
  const policy = parsePolicy(json.value);
  if (!policy.ok) {
    const errors = policy.error.map((e) => place({ severity: "error", code: "invalid_policy", path: e.path, message: e.message }));
    return { document: null, errors: errors.sort(inFileOrder), warnings: [] };
  }
  const warnings = [...documentWarnings(policy.value), ...(server === null ? [] : catalogueWarnings(policy.value, server))];
  return { document: policy.value, errors: [], warnings: warnings.map((w) => place({ severity: "warning", ...w })).sort(inFileOrder) };
}

const inFileOrder = (a: LintFinding, b: LintFinding): number => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);

type Warning = Omit<LintFinding, "severity" | "line" | "column">;

function documentWarnings(document: PolicyDocument): Warning[] {
  return [...lonelyCounters(document), ...hiddenRules(document), ...unpairedNegations(document), ...monitorMode(document)];
}

/**
 * Limits share a count only when they name the same counter. A counter used once and not named
 * `<tool>_rate` (what recommended policies and docs/policy.md use) is most often a typo of another
 * limit's counter, which silently gives the tool a count of its own.
 */
function lonelyCounters(document: PolicyDocument): Warning[] {
  const limits = [
    ...Object.entries(document.tools ?? {}).flatMap(([tool, rules]) =>
      (rules.limits ?? []).map((limit, index) => ({ tool, counter: limit.counter, path: pointer(["tools", tool, "limits", index, "counter"]) })),
    ),
    ...(document.all_tools?.limits ?? []).map((limit, index) => ({
      tool: null,
      counter: limit.counter,
      path: pointer(["all_tools", "limits", index, "counter"]),
    })),
  ];
  const uses = new Map<string, number>();
  for (const { counter } of limits) uses.set(counter, (uses.get(counter) ?? 0) + 1);
  return limits.flatMap(({ tool, counter, path }) => {
    // all_tools counters have no tool to be named after; one of them is the usual case.
    if (tool === null || uses.get(counter) !== 1 || counter === `${tool}_rate`) return [];
    const near = nearest(
      counter,
      [...uses.keys()].filter((other) => other !== counter),
    );
    return [
      {
        code: "lonely_counter",
        path,
        message:
          `counter "${counter}" is used by no other limit and is not named "${tool}_rate"; ` +
          (near === null ? "limits share a count only when they name the same counter" : `did you mean "${near}" (used by another limit)?`),
      },
    ];
  });
}

function hiddenRules(document: PolicyDocument): Warning[] {
  const hidden = document.hide ?? [];
  return Object.keys(document.tools ?? {}).flatMap((tool) => {
    const index = hidden.includes("*") ? hidden.indexOf("*") : hidden.indexOf(tool);
    if (index < 0) return [];
    return [{ code: "hidden_tool_rules", path: pointer(["tools", tool]), message: `"${tool}" is hidden by /hide/${index}, so its rules never apply` }];
  });
}

/**
 * `neq` and `not_in` are false for a missing argument (docs/policy.md), so a `deny_if` built on
 * them lets through a call that leaves the argument out, unless a `require` rule demands it.
 */
function unpairedNegations(document: PolicyDocument): Warning[] {
  return Object.entries(document.tools ?? {}).flatMap(([tool, rules]) => {
    const required = new Set((rules.require ?? []).flatMap((rule) => rule.conditions.filter((c) => c.op === "exists" && c.value === true).map((c) => c.path)));
    return (rules.deny_if ?? []).flatMap((rule, ruleIndex) =>
      rule.conditions.flatMap((condition: Condition, conditionIndex) => {
        if ((condition.op !== "neq" && condition.op !== "not_in") || required.has(condition.path)) return [];
        return [
          {
            code: "unpaired_negation",
            path: pointer(["tools", tool, "deny_if", ruleIndex, "conditions", conditionIndex]),
            message: `"${condition.op}" is false when ${condition.path} is missing, so a call without it is not denied; add a require rule { "path": "${condition.path}", "op": "exists", "value": true }`,
          },
        ];
      }),
    );
  });
}

function monitorMode(document: PolicyDocument): Warning[] {
  if (document.mode !== "monitor") return [];
  return [{ code: "monitor_mode", path: "/mode", message: 'mode is "monitor": every decision is audited, nothing is blocked' }];
}

/** Names under `tools` and `hide` that the upstream does not list: typos, or tools that went away. */
function catalogueWarnings(document: PolicyDocument, server: ServerTools): Warning[] {
  const listed = new Set(server.tools);
  const unknown = (name: string): string => {
    const near = nearest(name, server.tools);
    return `server ${server.serverId} lists no tool "${name}"${near === null ? "" : ` (did you mean "${near}"?)`}`;
  };
  const ruled = Object.keys(document.tools ?? {})
    .filter((tool) => !listed.has(tool))
    .map((tool) => ({
      code: "unknown_tool",
      path: pointer(["tools", tool]),
      message: `${unknown(tool)}; ${document.default === "allow" ? "if it is a typo, the real tool runs without these rules" : "these rules apply to nothing"}`,
    }));
  const hidden = (document.hide ?? []).flatMap((tool, index) =>
    tool === "*" || listed.has(tool)
      ? []
      : [{ code: "unknown_tool", path: pointer(["hide", index]), message: `${unknown(tool)}; if it is a typo, the real tool is not hidden` }],
  );
  return [...ruled, ...hidden];
}

/** The candidate closest to `name` within two edits, or null. */
export function nearest(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance > 0 && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
