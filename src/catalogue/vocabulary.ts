/**
 * The classifier's vocabulary (src/catalogue/classify.ts): which verbs, nouns, phrases and argument
 * names count as evidence of what a tool does. Data, kept apart from the rules that weigh it, so a
 * review of the vocabulary is a review of this file alone; docs/catalogue.md explains the choices.
 */
import type { Category } from "./classify";

export type VerbMeaning = Category | "generate" | "query";

/** Verbs, by what they do. A word is looked up as written, then without a plural/3rd-person "s". */
export const VERBS: ReadonlyMap<string, VerbMeaning> = new Map([
  ...words(
    "read",
    `get list search find read fetch show describe view lookup look retrieve count check inspect browse
    download export analyze analyse summarize summarise explain validate verify resolve diff compare calculate compute
    convert preview scrape crawl extract navigate screenshot watch tail grep stat cat ls echo print ping peek poll
    hover return geocode
    discover identify detect estimate measure audit review suggest recommend parse translate render visualize think
    ask load lint diagnose test explore map research whoami`,
  ),
  ...words(
    "write",
    `create add update edit set put write post send comment reply assign unassign move rename merge push
    commit upload insert upsert patch modify save append tag label star unstar fork close reopen archive unarchive
    publish import invite submit approve reject mark link unlink attach detach schedule enable disable start stop pause
    resume restart reboot scale apply clone checkout stage unstage init initialize register subscribe unsubscribe follow
    unfollow react pin unpin lock unlock share copy duplicate transfer manage configure toggle replace change fill click
    type press select drag store remember record note notify message email book reserve request dismiss cancel
    make open rate sync restore revert rebase cherry rotate complete finish finalize connect disconnect
    provision setup`,
  ),
  ...words(
    "execute",
    `run exec execute eval evaluate invoke call launch spawn trigger dispatch rerun retry deploy install build
    compile predict infer train finetune transcribe synthesize sample interact shell bash sh terminal script
    upgrade downgrade`,
  ),
  ...words(
    "destructive",
    `delete remove destroy drop purge wipe erase truncate terminate kill revoke uninstall unpublish
    discard clear rm del shred nuke cleanup clean`,
  ),
  ...words("financial", `refund pay charge purchase buy sell payout withdraw deposit bill capture tip donate fund`),
  ["generate", "generate"],
  ["query", "query"],
]);

/**
 * Nouns that name a read when a name has no verb at all (`git_status`, `git_log`,
 * `get-tiny-image` has a verb; `server_info` does not).
 */
export const READ_NOUNS = words(
  "read",
  `status info log logs diff details stats statistics health version versions tree history
  usage metadata schema schemas docs documentation help config settings whoami summary report overview`,
);

/** Objects that make a mutating verb move money. */
export const MONEY_OBJECTS = new Set(
  `payment payments paymentintent intent refund refunds charge charges invoice invoices payout payouts subscription
  subscriptions price prices coupon coupons promotion transaction transactions order orders money funds fund credit
  credits wallet billing checkout quote quotes dispute disputes balance transfer transfers cart purchase payouts
  tip tips donation donations`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** Objects that make a creating or starting verb run something. */
export const EXECUTION_OBJECTS = new Set(
  `prediction predictions job jobs run runs command commands script scripts code process processes workflow workflows
  pipeline pipelines build builds deployment deployments function functions task lambda container containers sandbox
  inference training trainings migration migrations query sql notebook cell`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** What a model produces: `generate_image` runs a model, `generate_typescript_types` only reads. */
export const MODEL_OUTPUTS = new Set(
  `image images video videos audio speech music voice text completion completions embedding embeddings content
  picture pictures art 3d sound story`
    .split(/\s+/)
    .filter((w) => w !== ""),
);

/** Verbs that only start or request something, so the object decides (create_prediction runs a model). */
export const STARTING_VERBS = new Set(["create", "start", "submit", "make", "new", "queue", "schedule", "add", "apply"]);

export function words<C extends string>(meaning: C, list: string): [string, C][] {
  return list
    .split(/\s+/)
    .filter((word) => word !== "")
    .map((word) => [word.replace(/_$/, ""), meaning]);
}

export function verbMeaning(word: string): VerbMeaning | undefined {
  return VERBS.get(word) ?? (word.endsWith("s") && word.length > 3 ? VERBS.get(word.slice(0, -1)) : undefined);
}

export const DESCRIPTION_PHRASES: readonly [Category, RegExp][] = [
  [
    "destructive",
    /\b(permanently (delete|deletes|deleted|remove|removes|removed|erase|erases|destroy|destroys)|irreversibl[ey]|cannot be undone|can't be undone|deletes? all|drops? (the )?(table|database|schema))\b/,
  ],
  [
    "execute",
    /\b(arbitrary (code|commands?|scripts?|sql|javascript|python)|(shell|terminal|bash|system) commands?|execut(e|es|ing) (a |the )?(commands?|code|scripts?|javascript|python|sql)|runs? (a |the )?(commands?|scripts?|code)|in a sandbox)\b/,
  ],
  [
    "financial",
    /\b(refunds? (a|the) (payment|charge)|charges? (the|a) (customer|card)|transfers? (money|funds)|sends? (money|a payment)|moves money|creates? a payment)\b/,
  ],
];

export const READ_ONLY_PHRASE = /\b(read-only|readonly|read only|does not modify|without modifying|no side effects)\b/;

export const COMMAND_ARGUMENTS = new Set([
  "command",
  "cmd",
  "commands",
  "script",
  "shell",
  "bash",
  "shellcommand",
  "javascript",
  "js",
  "python",
  "pythoncode",
  "sourcecode",
  "expression",
]);
export const SQL_ARGUMENTS = new Set(["sql", "sqlquery", "statement", "statements"]);
export const PATH_ARGUMENTS = new Set([
  "path",
  "paths",
  "filepath",
  "filename",
  "file",
  "files",
  "directory",
  "dir",
  "dirpath",
  "directorypath",
  "folder",
  "sourcepath",
  "destinationpath",
  "targetpath",
  "repopath",
  "cwd",
  "workingdirectory",
]);
export const URL_ARGUMENTS = new Set(["url", "urls", "uri", "endpoint", "href", "link", "webhookurl", "website", "baseurl"]);
