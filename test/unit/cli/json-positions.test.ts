import { describe, expect, it } from "vitest";
import { jsonPositions, locate, positionAt } from "../../../src/cli/json-positions";

describe("jsonPositions", () => {
  const text = '{\n  "a/b": [1, {"x~y": "s\\"q"}],\n  "c": {\n    "d": true\n  }\n}';
  const positions = jsonPositions(text);

  it("places members at their keys and elements at their values, pointers escaped per RFC 6901", () => {
    expect(positions.get("")).toEqual({ line: 1, column: 1 });
    expect(positions.get("/a~1b")).toEqual({ line: 2, column: 3 });
    expect(positions.get("/a~1b/0")).toEqual({ line: 2, column: 11 });
    expect(positions.get("/a~1b/1/x~0y")).toEqual({ line: 2, column: 15 });
    expect(positions.get("/c/d")).toEqual({ line: 4, column: 5 });
  });

  it("falls back to the nearest ancestor, and converts offsets", () => {
    expect(locate(positions, "/c/missing/deeper")).toEqual({ line: 3, column: 3 });
    expect(positionAt(text, text.indexOf('"d"'))).toEqual({ line: 4, column: 5 });
  });
});
