/**
 * Reading what a tool does from words: the verb and object of its name (split on snake_case,
 * kebab-case, dots and camelCase), and the verb a description starts with. Used by classify.ts;
 * the words themselves are in vocabulary.ts.
 */
import type { Category } from "./classify";
import { EXECUTION_OBJECTS, MODEL_OUTPUTS, MONEY_OBJECTS, READ_NOUNS, STARTING_VERBS, verbMeaning } from "./vocabulary";

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

export interface NameEvidence {
  category: Category;
  reason: string;
  /** The verb was only weak evidence (a read noun, a generic verb): descriptions may decide. */
  weak: boolean;
}

export const q = JSON.stringify;

/** HTTP methods used as name prefixes (`API-post-search`): the verb after them says more. */
const HTTP_METHOD_WORDS = new Set(["post", "put", "patch"]);

const inSet = (set: ReadonlySet<string>, word: string): boolean => set.has(word) || (word.endsWith("s") && set.has(word.slice(0, -1)));

export function fromName(words: string[], describesSql: boolean, readOnlyDescription: boolean): NameEvidence | null {
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
export function fromVerb(verb: string, objects: string[], describesSql: boolean, readOnlyDescription: boolean, where: "name" | "description"): NameEvidence {
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
const DESCRIPTION_PREAMBLE =
  /^(?:[^|.]{0,40}\|\s*)?(?:this tool (?:will|can|is used to|lets you|allows you to)\s+|use this (?:tool )?to\s+|tool to\s+|used to\s+)?/;

/** The verb a description starts with (`Get directions between two points` → get), with its object. */
export function leadingVerb(description: string): { verb: string; objects: string[] } | null {
  const words = description
    .trim()
    .toLowerCase()
    .replace(DESCRIPTION_PREAMBLE, "")
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
  const verb = words[0];
  if (verb === undefined || verbMeaning(verb) === undefined) return null;
  return { verb, objects: words.slice(1, 4) };
}
