// The shape the code keeps (docs/architecture.md): small files of small functions, and docs that
// name only what exists. A file over 300 lines must say why in its header ("Longer than 300
// lines because …"); no function may be over 60 lines.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry) && !entry.endsWith(".d.ts") ? [path] : [];
  });
}

const files = sourceFiles(join(root, "src"));

describe("src/ is small files of small functions", () => {
  it("every file is at most 300 lines, or its header says why", () => {
    const tooLong = files.filter((file) => {
      const text = readFileSync(file, "utf8");
      const header = text.slice(0, text.indexOf("*/") + 2);
      return text.split("\n").length > MAX_FILE_LINES && !/Longer than 300 lines because/.test(header);
    });
    expect(tooLong.map((file) => relative(root, file))).toEqual([]);
  });

  it("no function is over 60 lines", () => {
    const long: string[] = [];
    for (const file of files) {
      const source = ts.createSourceFile(
        file,
        readFileSync(file, "utf8"),
        ts.ScriptTarget.Latest,
        true,
        file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
      );
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
          const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (end - start + 1 > MAX_FUNCTION_LINES) long.push(`${relative(root, file)}:${start + 1} (${end - start + 1} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });

  it("no comment in src/ cites a file outside the repository or an issue number", () => {
    const outside = files.filter((file) => {
      const text = readFileSync(file, "utf8");
      return /\.\.\/shared|\/work\/|(?<!docs\/)\bPOLICY\.md|MCP-NOTES/.test(text) || /\bissue #?\d/i.test(text);
    });
    expect(outside.map((file) => relative(root, file))).toEqual([]);
  });
});

describe("the docs stay true", () => {
  it("every file docs/architecture.md names exists", () => {
    const text = readFileSync(join(root, "docs/architecture.md"), "utf8");
    const named = new Set<string>();
    for (const match of text.matchAll(/`((?:src|docs|test|scripts)\/[^`\s]+?)`/g)) named.add(match[1]!);
    // Short names in a module list ("`decide.ts`") belong to the directory named just before them.
    expect(named.size).toBeGreaterThan(25);
    const missing = [...named].filter((path) => {
      try {
        statSync(join(root, path.replace(/\/\*$|\/$/, "")));
        return false;
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });

  it("every admin error code the README lists is one the code emits", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("| code | status | when |"));
    const rows = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
    const codes = rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
    expect(codes.length).toBeGreaterThan(20);
    const code = files.map((file) => readFileSync(file, "utf8")).join("\n");
    const emitted = (name: string) => code.includes(`"${name}"`) || (name.endsWith("_not_found") && code.includes("notFound(")) || code.includes(`\`${name}\``);
    expect(codes.filter((name) => !emitted(name))).toEqual([]);
  });

  it("no committed file holds a merge conflict's markers", () => {
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" })
      .split("\0")
      .filter((f) => /\.(md|ts|tsx|mjs|js|json|toml|css|yml)$/.test(f));
    expect(tracked.length).toBeGreaterThan(100);
    const marked = tracked.filter((file) => /^(<{7}|>{7}) /m.test(readFileSync(join(root, file), "utf8")));
    expect(marked).toEqual([]);
  });
});
