import { describe, expect, it } from "vitest";
import { parseMediaType } from "../../../src/mcp/media-type";

describe("parseMediaType reads Content-Type by the RFC 9110 grammar", () => {
  it.each<[string, unknown]>([
    ["application/json", { type: "application/json", parameters: [] }],
    ["Application/JSON", { type: "application/json", parameters: [] }],
    ["application/json; charset=utf-8", { type: "application/json", parameters: [["charset", "utf-8"]] }],
    ['application/json;CHARSET="UTF-8"', { type: "application/json", parameters: [["charset", "UTF-8"]] }],
    [
      "application/json ; charset=utf-7 ; x=1",
      {
        type: "application/json",
        parameters: [
          ["charset", "utf-7"],
          ["x", "1"],
        ],
      },
    ],
    ['application/json; charset="utf\\-8"', { type: "application/json", parameters: [["charset", "utf-8"]] }],
  ])("%j", (value, expected) => {
    expect(parseMediaType(value)).toEqual(expected);
  });

  it.each([
    null,
    "",
    "application",
    "application/",
    "/json",
    "application/json, text/plain",
    "application/json; charset",
    "application/json; charset=",
    'application/json; charset="utf-8',
    "application/json; charset=utf-8; charset=utf-7",
    "application json",
  ])("refuses %j", (value) => {
    expect(parseMediaType(value)).toBeNull();
  });
});
