/**
 * Classifies one MCP tool definition: what the tool IS (category), how much harm a runaway or
 * hijacked agent could do with it (risk), and the evidence for both (reasons). Pure and
 * deterministic: the same definition always gets the same answer, and every answer is explained.
 *
 * Evidence, strongest first (docs/catalogue.md):
 *   1. the name: its verb and its object, after splitting snake_case, kebab-case, dots and
 *      camelCase into words (`list_runs` is the verb "list" and the object "runs": a read);
 *   2. the description, for the few phrases that say outright what a tool does ("permanently
 *      deletes", "executes a shell command", "read-only");
 *   3. the arguments: a command or script runs something; an amount with a currency moves money;
 *   4. the annotations. They are the server's own claims and can be wrong, so a claim of safety
 *      (readOnlyHint) never lowers a category that other evidence set, and is flagged `conflict`
 *      when it disagrees; a claim of danger (destructiveHint) is believed.
 * When nothing says what a tool does, it is treated as a write.
 *
 * Risk starts at the category's default and is raised, never lowered, by evidence of reach:
 * open-world, arguments that take a command, a path or a URL, a destructive annotation. Every
 * raise is a reason.
 */

import { fromName, fromVerb, leadingVerb, nameWords, q } from "./names";
import { COMMAND_ARGUMENTS, DESCRIPTION_PHRASES, PATH_ARGUMENTS, READ_ONLY_PHRASE, SQL_ARGUMENTS, URL_ARGUMENTS } from "./vocabulary";

export const CATEGORIES = ["read", "write", "execute", "destructive", "financial"] as const;
export type Category = (typeof CATEGORIES)[number];

export const RISKS = ["low", "medium", "high", "critical"] as const;
export type Risk = (typeof RISKS)[number];

export const DEFAULT_RISK: Readonly<Record<Category, Risk>> = {
  read: "low",
  write: "medium",
  execute: "high",
  destructive: "critical",
  financial: "critical",
};

/** What the classifier reads: the members of a tool definition that describe it. */
export interface ToolDescription {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema?: Record<string, unknown> | undefined;
  annotations?:
    | { readOnlyHint?: boolean | undefined; destructiveHint?: boolean | undefined; openWorldHint?: boolean | undefined; title?: string | undefined }
    | undefined;
}

/** Evidence that lifts the risk to at least `to` (or `toWhenChanging`, for a tool that is not a read). */
export interface RiskRaise {
  to: Risk;
  toWhenChanging?: Risk;
  evidence: string;
}

const raisedTo = (category: Category, raise: RiskRaise): Risk => (category === "read" ? raise.to : (raise.toWhenChanging ?? raise.to));

export interface Classification {
  category: Category;
  risk: Risk;
  /** One sentence per piece of evidence used, each naming it. */
  reasons: string[];
  /** The server's annotations contradict the category the other evidence gives. */
  conflict: boolean;
  /** The raises of `risk`, also for re-deriving it when an operator overrides the category. */
  raises: RiskRaise[];
}

// ---- Descriptions ---------------------------------------------------------------------------

// ---- Arguments ------------------------------------------------------------------------------

function argumentNames(schema: Record<string, unknown> | undefined): string[] {
  const properties = schema?.properties;
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) return [];
  return Object.keys(properties);
}

const compact = (argument: string): string => argument.toLowerCase().replace(/[^a-z0-9]/g, "");

// ---- Putting it together -----------------------------------------------------------------------

const SEVERITY: Readonly<Record<Category, number>> = { read: 0, write: 1, execute: 2, destructive: 3, financial: 3 };
const RISK_LEVEL: Readonly<Record<Risk, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The risk of a category given the raises found: the default, lifted by each raise. */
export function riskOf(category: Category, raises: readonly RiskRaise[]): Risk {
  let risk = DEFAULT_RISK[category];
  for (const raise of raises) if (RISK_LEVEL[raisedTo(category, raise)] > RISK_LEVEL[risk]) risk = raisedTo(category, raise);
  return risk;
}

/** The reasons a risk raise shows, for the raises that lift `category`'s default. */
export function raiseReasons(category: Category, raises: readonly RiskRaise[]): string[] {
  const reasons: string[] = [];
  let risk = DEFAULT_RISK[category];
  for (const raise of raises) {
    const to = raisedTo(category, raise);
    if (RISK_LEVEL[to] > RISK_LEVEL[risk]) {
      risk = to;
      reasons.push(`risk raised to ${to} by ${raise.evidence}`);
    }
  }
  return reasons;
}

/** What one classification has found so far; each step below adds to it, strongest evidence first. */
interface Evidence {
  tool: ToolDescription;
  text: string;
  readOnlyDescription: RegExpExecArray | null;
  describesSql: boolean;
  argument: (test: (compacted: string) => boolean) => string | undefined;
  category: Category | null;
  /** The name was silent or only weak evidence: the description may decide. */
  weak: boolean;
  reasons: string[];
  conflict: boolean;
}

export function classifyTool(tool: ToolDescription): Classification {
  const text = `${tool.title ?? ""} ${tool.annotations?.title ?? ""} ${tool.description ?? ""}`.toLowerCase().replace(/\s+/g, " ");
  const args = argumentNames(tool.inputSchema);
  const compactArgs = args.map(compact);
  const argument = (test: (compacted: string) => boolean): string | undefined => args.find((_, i) => test(compactArgs[i]!));
  const e: Evidence = {
    tool,
    text,
    readOnlyDescription: READ_ONLY_PHRASE.exec(text),
    describesSql: /\bsql\b/.test(text) || argument((a) => SQL_ARGUMENTS.has(a)) !== undefined,
    argument,
    category: null,
    weak: true,
    reasons: [],
    conflict: false,
  };
  fromTheName(e);
  if (e.weak) fromTheDescription(e);
  fromTheArguments(e);
  fromTheAnnotations(e);
  if (e.category === null) {
    e.category = "write";
    e.reasons.push("write: neither the name, the description, the arguments nor the annotations say what the tool does, so it is treated as a write");
  }
  const raises = riskRaises(e);
  e.reasons.push(...raiseReasons(e.category, raises));
  return { category: e.category, risk: riskOf(e.category, raises), reasons: e.reasons, conflict: e.conflict, raises };
}

/** 1. The name: its verb and object. */
function fromTheName(e: Evidence): void {
  const named = fromName(nameWords(e.tool.name), e.describesSql, e.readOnlyDescription !== null);
  if (named === null) return;
  e.category = named.category;
  e.weak = named.weak;
  e.reasons.push(`${named.category}: ${named.reason}`);
}

/** 2. The description, when the name was silent or weak: a phrase that says outright what the tool does, else its leading verb. */
function fromTheDescription(e: Evidence): void {
  for (const [phraseCategory, phrase] of DESCRIPTION_PHRASES) {
    const match = phrase.exec(e.text);
    if (match === null || (phraseCategory === "execute" && e.readOnlyDescription !== null)) continue;
    if (e.category !== null && SEVERITY[phraseCategory] <= SEVERITY[e.category]) return;
    e.category = phraseCategory;
    e.reasons.push(`${phraseCategory}: description says ${q(match[0])}`);
    return;
  }
  if (e.category !== null) return;
  const lead = leadingVerb(e.tool.description ?? "");
  if (lead !== null) {
    const said = fromVerb(lead.verb, lead.objects, e.describesSql, e.readOnlyDescription !== null, "description");
    e.category = said.category;
    e.reasons.push(`${said.category}: ${said.reason}`);
  } else if (e.readOnlyDescription !== null) {
    e.category = "read";
    e.reasons.push(`read: description says ${q(e.readOnlyDescription[0])}`);
  }
}

/** 3. The arguments: an amount with a currency moves money; a command runs something. */
function fromTheArguments(e: Evidence): void {
  const commandArg = e.argument((a) => COMMAND_ARGUMENTS.has(a));
  const amountArg = e.argument((a) => a === "amount" || a.endsWith("amount"));
  const currencyArg = e.argument((a) => a.includes("currency"));
  if (amountArg !== undefined && currencyArg !== undefined && e.category !== "read" && e.category !== "financial") {
    e.category = "financial";
    e.reasons.push(`financial: argument ${q(amountArg)} with ${q(currencyArg)}`);
  }
  if (commandArg !== undefined && e.weak && (e.category === null || SEVERITY[e.category] < SEVERITY.execute)) {
    e.category = "execute";
    e.reasons.push(`execute: argument ${q(commandArg)} takes a command to run`);
  }
}

/**
 * 4. The annotations, the server's claims. They decide only when nothing else did; against other
 * evidence, a contradiction is flagged and the other evidence stands.
 */
function fromTheAnnotations(e: Evidence): void {
  const annotations = e.tool.annotations ?? {};
  const claimsDestructive = annotations.destructiveHint === true && annotations.readOnlyHint !== true;
  if (e.category === null) {
    if (claimsDestructive) {
      e.category = "destructive";
      e.reasons.push("destructive: annotation destructiveHint=true");
    } else if (annotations.readOnlyHint === true) {
      e.category = "read";
      e.reasons.push("read: annotation readOnlyHint=true");
    } else if (annotations.readOnlyHint === false) {
      e.category = "write";
      e.reasons.push("write: annotation readOnlyHint=false");
    }
  } else if (annotations.readOnlyHint === true && e.category !== "read") {
    e.conflict = true;
    e.reasons.push(`conflict: annotation readOnlyHint=true, but the evidence above says ${e.category}, and that evidence wins`);
  } else if (claimsDestructive && e.category === "read") {
    e.conflict = true;
    e.reasons.push("conflict: annotation destructiveHint=true, but the evidence above says read, and that evidence wins");
  }
}

/** Evidence of reach, which raises the risk: a destructive claim, a command, a path, a URL, the open world. */
function riskRaises(e: Evidence): RiskRaise[] {
  const annotations = e.tool.annotations ?? {};
  const raises: RiskRaise[] = [];
  if (annotations.destructiveHint === true && annotations.readOnlyHint !== true) raises.push({ to: "high", evidence: "annotation destructiveHint=true" });
  const commandArg = e.argument((a) => COMMAND_ARGUMENTS.has(a));
  if (commandArg !== undefined) raises.push({ to: "critical", evidence: `argument ${q(commandArg)} (a command)` });
  const pathArg = e.argument((a) => PATH_ARGUMENTS.has(a) || a.endsWith("path"));
  if (pathArg !== undefined) raises.push({ to: "medium", toWhenChanging: "high", evidence: `argument ${q(pathArg)} (a path)` });
  const urlArg = e.argument((a) => URL_ARGUMENTS.has(a) || a.endsWith("url"));
  if (urlArg !== undefined) raises.push({ to: "medium", evidence: `argument ${q(urlArg)} (a URL)` });
  if (annotations.openWorldHint === true) raises.push({ to: "medium", evidence: "annotation openWorldHint=true (it reaches outside systems)" });
  return raises;
}

/** The classification an operator's override makes: their category, the same evidence of reach. */
export function overriddenClassification(computed: Classification, category: Category): { category: Category; risk: Risk } {
  return { category, risk: riskOf(category, computed.raises) };
}
