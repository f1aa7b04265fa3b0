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

// ---- Names ---------------------------------------------------------------------------------

/**
 * The lowercase words of a tool name: split on anything that is not a letter or digit (snake,
 * kebab, dots, spaces) and on camelCase humps (`getHTTPResponse` → get, http, response).
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== "")
    .map((word) => word.toLowerCase());
}

type VerbMeaning = Category | "generate" | "query";

/** Verbs, by what they do. A word is looked up as written, then without a plural/3rd-person "s". */
const VERBS: ReadonlyMap<string, VerbMeaning> = new Map([
  ...words("read", `get list search find read fetch show describe view lookup look retrieve count check inspect browse
    download export analyze analyse summarize summarise explain validate verify resolve diff compare calculate compute
    convert preview scrape crawl extract navigate screenshot watch tail grep stat cat ls echo print ping peek poll
    hover return geocode
    discover identify detect estimate measure audit review suggest recommend parse translate render visualize think
    ask load lint diagnose test explore map research whoami`),
  ...words("write", `create add update edit set put write post send comment reply assign unassign move rename merge push
    commit upload insert upsert patch modify save append tag label star unstar fork close reopen archive unarchive
    publish import invite submit approve reject mark link unlink attach detach schedule enable disable start stop pause
    resume restart reboot scale apply clone checkout stage unstage init initialize register subscribe unsubscribe follow
    unfollow react pin unpin lock unlock share copy duplicate transfer manage configure toggle replace change fill click
    type press select drag store remember record note notify message email book reserve request dismiss cancel
    make open rate sync restore revert rebase cherry rotate complete finish finalize connect disconnect
    provision setup`),
  ...words("execute", `run exec execute eval evaluate invoke call launch spawn trigger dispatch rerun retry deploy install build
    compile predict infer train finetune transcribe synthesize sample interact shell bash sh terminal script
    upgrade downgrade`),
  ...words("destructive", `delete remove destroy drop purge wipe erase truncate terminate kill revoke uninstall unpublish
    discard clear rm del shred nuke cleanup clean`),
  ...words("financial", `refund pay charge purchase buy sell payout withdraw deposit bill capture tip donate fund`),
  ["generate", "generate"],
  ["query", "query"],
]);

/**
 * Nouns that name a read when a name has no verb at all (`git_status`, `git_log`,
 * `get-tiny-image` has a verb; `server_info` does not).
 */
const READ_NOUNS = words("read", `status info log logs diff details stats statistics health version versions tree history
  usage metadata schema schemas docs documentation help config settings whoami summary report overview`);

/** Objects that make a mutating verb move money. */
const MONEY_OBJECTS = new Set(
  `payment payments paymentintent intent refund refunds charge charges invoice invoices payout payouts subscription
  subscriptions price prices coupon coupons promotion transaction transactions order orders money funds fund credit
  credits wallet billing checkout quote quotes dispute disputes balance transfer transfers cart purchase payouts
  tip tips donation donations`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** Objects that make a creating or starting verb run something. */
const EXECUTION_OBJECTS = new Set(
  `prediction predictions job jobs run runs command commands script scripts code process processes workflow workflows
  pipeline pipelines build builds deployment deployments function functions task lambda container containers sandbox
  inference training trainings migration migrations query sql notebook cell`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** What a model produces: `generate_image` runs a model, `generate_typescript_types` only reads. */
const MODEL_OUTPUTS = new Set(
  `image images video videos audio speech music voice text completion completions embedding embeddings content
  picture pictures art 3d sound story`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** Verbs that only start or request something, so the object decides (create_prediction runs a model). */
const STARTING_VERBS = new Set(["create", "start", "submit", "make", "new", "queue", "schedule", "add", "apply"]);

function words<C extends string>(meaning: C, list: string): [string, C][] {
  return list
    .split(/\s+/)
    .filter((word) => word !== "")
    .map((word) => [word.replace(/_$/, ""), meaning]);
}

function verbMeaning(word: string): VerbMeaning | undefined {
  return VERBS.get(word) ?? (word.endsWith("s") && word.length > 3 ? VERBS.get(word.slice(0, -1)) : undefined);
}

interface NameEvidence {
  category: Category;
  reason: string;
  /** The verb was only weak evidence (a read noun, a generic verb): descriptions may decide. */
  weak: boolean;
}

const q = JSON.stringify;

/** HTTP methods used as name prefixes (`API-post-search`): the verb after them says more. */
const HTTP_METHOD_WORDS = new Set(["post", "put", "patch"]);

const inSet = (set: ReadonlySet<string>, word: string): boolean =>
  set.has(word) || (word.endsWith("s") && set.has(word.slice(0, -1)));

function fromName(words: string[], describesSql: boolean, readOnlyDescription: boolean): NameEvidence | null {
  let verbAt = words.findIndex((word) => verbMeaning(word) !== undefined);
  if (verbAt === -1) {
    const noun = words.find((word) => READ_NOUNS.some(([n]) => n === word));
    return noun === undefined ? null : { category: "read", reason: `name word ${q(noun)} names information to read`, weak: true };
  }
  if (HTTP_METHOD_WORDS.has(words[verbAt]!)) {
    const next = words.findIndex((word, i) => i > verbAt && verbMeaning(word) !== undefined);
    if (next !== -1) verbAt = next;
  }
  return fromVerb(words[verbAt]!, verbAt < words.length - 1 ? words.slice(verbAt + 1) : words.slice(0, verbAt), describesSql, readOnlyDescription, "name");
}

/**
 * What a verb and its object say. The object is what follows the verb, or, for names that put
 * the verb last (`issue_create`), what precedes it.
 */
function fromVerb(verb: string, objects: string[], describesSql: boolean, readOnlyDescription: boolean, where: "name" | "description"): NameEvidence {
  const meaning = verbMeaning(verb)!;
  const money = objects.find((word) => inSet(MONEY_OBJECTS, word));
  const execution = objects.find((word) => inSet(EXECUTION_OBJECTS, word));
  const said = where === "name" ? `name verb ${q(verb)}` : `description starts with the verb ${q(verb)}`;
  // A description is weaker evidence than a name: it may be boilerplate.
  const weak = where === "description";

  switch (meaning) {
    case "read":
      return { category: "read", reason: `${said} reads`, weak };
    case "query":
      if (describesSql && !readOnlyDescription) return { category: "execute", reason: `${said} runs SQL the agent writes`, weak };
      return { category: "read", reason: `${said} reads`, weak: true };
    case "generate": {
      const output = objects.find((word) => MODEL_OUTPUTS.has(word));
      if (output !== undefined || objects.length === 0) {
        return { category: "execute", reason: `${said}${output ? ` with object ${q(output)}` : ""} runs a model`, weak };
      }
      return { category: "read", reason: `${said} derives ${q(objects.join(" "))} from existing data`, weak: true };
    }
    case "financial":
      return { category: "financial", reason: `${said} moves money`, weak };
    case "destructive":
      return { category: "destructive", reason: `${said} destroys`, weak };
    case "execute":
      return { category: "execute", reason: `${said} runs something`, weak };
    case "write": {
      if (money !== undefined) return { category: "financial", reason: `${said} with object ${q(money)} moves money`, weak };
      if (STARTING_VERBS.has(verb)) {
        if (execution !== undefined) return { category: "execute", reason: `${said} with object ${q(execution)} runs something`, weak };
        // "start_search" starts a search: the object is the activity.
        const activity = objects[0];
        if (activity !== undefined && verbMeaning(activity) === "read") {
          return { category: "read", reason: `${said} with object ${q(activity)} starts a read`, weak };
        }
      }
      return { category: "write", reason: `${said} changes state`, weak: weak || verb === "manage" || verb === "make" };
    }
  }
}

/** Boilerplate before a description's verb: "This tool will list…", "Notion | Retrieve a user". */
const DESCRIPTION_PREAMBLE = /^(?:[^|.]{0,40}\|\s*)?(?:this tool (?:will|can|is used to|lets you|allows you to)\s+|use this (?:tool )?to\s+|tool to\s+|used to\s+)?/;

/** The verb a description starts with (`Get directions between two points` → get), with its object. */
function leadingVerb(description: string): { verb: string; objects: string[] } | null {
  const words = description.trim().toLowerCase().replace(DESCRIPTION_PREAMBLE, "").split(/[^a-z0-9]+/).filter((w) => w !== "");
  const verb = words[0];
  if (verb === undefined || verbMeaning(verb) === undefined) return null;
  return { verb, objects: words.slice(1, 4) };
}

// ---- Descriptions ---------------------------------------------------------------------------

const DESCRIPTION_PHRASES: readonly [Category, RegExp][] = [
  ["destructive", /\b(permanently (delete|deletes|deleted|remove|removes|removed|erase|erases|destroy|destroys)|irreversibl[ey]|cannot be undone|can't be undone|deletes? all|drops? (the )?(table|database|schema))\b/],
  ["execute", /\b(arbitrary (code|commands?|scripts?|sql|javascript|python)|(shell|terminal|bash|system) commands?|execut(e|es|ing) (a |the )?(commands?|code|scripts?|javascript|python|sql)|runs? (a |the )?(commands?|scripts?|code)|in a sandbox)\b/],
  ["financial", /\b(refunds? (a|the) (payment|charge)|charges? (the|a) (customer|card)|transfers? (money|funds)|sends? (money|a payment)|moves money|creates? a payment)\b/],
];

const READ_ONLY_PHRASE = /\b(read-only|readonly|read only|does not modify|without modifying|no side effects)\b/;

// ---- Arguments ------------------------------------------------------------------------------

function argumentNames(schema: Record<string, unknown> | undefined): string[] {
  const properties = schema?.["properties"];
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) return [];
  return Object.keys(properties);
}

const COMMAND_ARGUMENTS = new Set(["command", "cmd", "commands", "script", "shell", "bash", "shellcommand", "javascript", "js", "python", "pythoncode", "sourcecode", "expression"]);
const SQL_ARGUMENTS = new Set(["sql", "sqlquery", "statement", "statements"]);
const PATH_ARGUMENTS = new Set(["path", "paths", "filepath", "filename", "file", "files", "directory", "dir", "dirpath", "directorypath", "folder", "sourcepath", "destinationpath", "targetpath", "repopath", "cwd", "workingdirectory"]);
const URL_ARGUMENTS = new Set(["url", "urls", "uri", "endpoint", "href", "link", "webhookurl", "website", "baseurl"]);

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

export function classifyTool(tool: ToolDescription): Classification {
  const words = nameWords(tool.name);
  const description = tool.description ?? "";
  const text = `${tool.title ?? ""} ${tool.annotations?.title ?? ""} ${description}`.toLowerCase().replace(/\s+/g, " ");
  const args = argumentNames(tool.inputSchema);
  const compactArgs = args.map(compact);
  const argument = (test: (compacted: string) => boolean): string | undefined => args.find((_, i) => test(compactArgs[i]!));
  const readOnlyDescription = READ_ONLY_PHRASE.exec(text);
  const describesSql = /\bsql\b/.test(text) || argument((a) => SQL_ARGUMENTS.has(a)) !== undefined;

  const reasons: string[] = [];
  let category: Category | null = null;
  let weak = true;

  // 1. The name.
  const named = fromName(words, describesSql, readOnlyDescription !== null);
  if (named !== null) {
    category = named.category;
    weak = named.weak;
    reasons.push(`${named.category}: ${named.reason}`);
  }

  // 2. The description, when the name was silent or only weak evidence: a phrase that says
  //    outright what the tool does, else the verb it starts with.
  if (weak) {
    let phrased = false;
    for (const [phraseCategory, phrase] of DESCRIPTION_PHRASES) {
      const match = phrase.exec(text);
      if (match === null || (phraseCategory === "execute" && readOnlyDescription !== null)) continue;
      if (category === null || SEVERITY[phraseCategory] > SEVERITY[category]) {
        category = phraseCategory;
        reasons.push(`${phraseCategory}: description says ${q(match[0])}`);
        phrased = true;
      }
      break;
    }
    if (!phrased && category === null) {
      const lead = leadingVerb(description);
      if (lead !== null) {
        const said = fromVerb(lead.verb, lead.objects, describesSql, readOnlyDescription !== null, "description");
        category = said.category;
        reasons.push(`${said.category}: ${said.reason}`);
      } else if (readOnlyDescription !== null) {
        category = "read";
        reasons.push(`read: description says ${q(readOnlyDescription[0])}`);
      }
    }
  }

  // 3. The arguments.
  const commandArg = argument((a) => COMMAND_ARGUMENTS.has(a));
  const amountArg = argument((a) => a === "amount" || a.endsWith("amount"));
  const currencyArg = argument((a) => a.includes("currency"));
  if (amountArg !== undefined && currencyArg !== undefined && category !== "read" && category !== "financial") {
    category = "financial";
    reasons.push(`financial: argument ${q(amountArg)} with ${q(currencyArg)}`);
  }
  if (commandArg !== undefined && weak && (category === null || SEVERITY[category] < SEVERITY.execute)) {
    category = "execute";
    reasons.push(`execute: argument ${q(commandArg)} takes a command to run`);
  }

  // 4. The annotations: the server's claims. They decide only when nothing else did; against
  //    other evidence, a contradiction is flagged and the other evidence stands.
  const annotations = tool.annotations ?? {};
  const claimsDestructive = annotations.destructiveHint === true && annotations.readOnlyHint !== true;
  let conflict = false;
  if (category === null) {
    if (claimsDestructive) {
      category = "destructive";
      reasons.push("destructive: annotation destructiveHint=true");
    } else if (annotations.readOnlyHint === true) {
      category = "read";
      reasons.push("read: annotation readOnlyHint=true");
    } else if (annotations.readOnlyHint === false) {
      category = "write";
      reasons.push("write: annotation readOnlyHint=false");
    }
  } else if (annotations.readOnlyHint === true && category !== "read") {
    conflict = true;
    reasons.push(`conflict: annotation readOnlyHint=true, but the evidence above says ${category}, and that evidence wins`);
  } else if (claimsDestructive && category === "read") {
    conflict = true;
    reasons.push("conflict: annotation destructiveHint=true, but the evidence above says read, and that evidence wins");
  }

  if (category === null) {
    category = "write";
    reasons.push("write: neither the name, the description, the arguments nor the annotations say what the tool does, so it is treated as a write");
  }

  // Risk: evidence of reach.
  const raises: RiskRaise[] = [];
  if (claimsDestructive) raises.push({ to: "high", evidence: "annotation destructiveHint=true" });
  if (commandArg !== undefined) raises.push({ to: "critical", evidence: `argument ${q(commandArg)} (a command)` });
  const pathArg = argument((a) => PATH_ARGUMENTS.has(a) || a.endsWith("path"));
  if (pathArg !== undefined) raises.push({ to: "medium", toWhenChanging: "high", evidence: `argument ${q(pathArg)} (a path)` });
  const urlArg = argument((a) => URL_ARGUMENTS.has(a) || a.endsWith("url"));
  if (urlArg !== undefined) raises.push({ to: "medium", evidence: `argument ${q(urlArg)} (a URL)` });
  if (annotations.openWorldHint === true) raises.push({ to: "medium", evidence: "annotation openWorldHint=true (it reaches outside systems)" });

  reasons.push(...raiseReasons(category, raises));
  return { category, risk: riskOf(category, raises), reasons, conflict, raises };
}

/** The classification an operator's override makes: their category, the same evidence of reach. */
export function overriddenClassification(computed: Classification, category: Category): { category: Category; risk: Risk } {
  return { category, risk: riskOf(category, computed.raises) };
}
