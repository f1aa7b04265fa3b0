import { describe, expect, it } from "vitest";
import { diffLines, diffSize, diffText } from "../../../src/console/diff";

describe("diffLines", () => {
  it("marks a changed limit as one removed and one added line", () => {
    const before = diffText({ version: "1", default: "deny", tools: { run: { limits: [{ counter: "run_rate", window: "minute", max: 10 }] } } });
    const after = diffText({ version: "1", default: "deny", tools: { run: { limits: [{ counter: "run_rate", window: "minute", max: 5 }] } } });
    const lines = diffLines(before, after);
    expect(lines.filter((line) => line.kind !== "same")).toEqual([
      { kind: "removed", text: '          "max": 10' },
      { kind: "added", text: '          "max": 5' },
    ]);
    expect(
      lines
        .filter((line) => line.kind !== "added")
        .map((line) => line.text)
        .join("\n"),
    ).toBe(before);
    expect(
      lines
        .filter((line) => line.kind !== "removed")
        .map((line) => line.text)
        .join("\n"),
    ).toBe(after);
  });

  it("a first version is all added", () => {
    expect(diffSize(diffLines("", "a\nb"))).toEqual({ added: 2, removed: 0 });
  });

  it("identical texts have no changes", () => {
    expect(diffSize(diffLines("a\nb\nc", "a\nb\nc"))).toEqual({ added: 0, removed: 0 });
  });

  it("finds the common lines between interleaved changes", () => {
    const lines = diffLines("a\nb\nc\nd", "a\nx\nc\ny");
    expect(lines).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "x" },
      { kind: "same", text: "c" },
      { kind: "removed", text: "d" },
      { kind: "added", text: "y" },
    ]);
  });

  it("past the table bound, stays correct (all removed, all added) and fast", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `old ${i}`).join("\n");
    const after = Array.from({ length: 3000 }, (_, i) => `new ${i}`).join("\n");
    const started = Date.now();
    expect(diffSize(diffLines(before, after))).toEqual({ added: 3000, removed: 3000 });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
