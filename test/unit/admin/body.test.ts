import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeFieldErrors, fieldErrors } from "../../../src/admin/body";

const schema = z.strictObject({
  name: z.string(),
  headers: z.record(z.string().regex(/^[A-Za-z-]+$/, "must be an HTTP header name"), z.string()).optional(),
  nested: z.strictObject({ "a/b": z.number() }).optional(),
});

const errorsOf = (value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error("expected a failure");
  return fieldErrors(parsed.error.issues);
};

describe("fieldErrors", () => {
  it("names each unknown field by its own pointer", () => {
    expect(errorsOf({ name: "x", extra: 1, other: 2 })).toEqual([
      { path: "/extra", message: "unknown field" },
      { path: "/other", message: "unknown field" },
    ]);
  });

  it("says why a record key failed, at the key", () => {
    expect(errorsOf({ name: "x", headers: { "Bad Header": "v" } })).toEqual([{ path: "/headers/Bad Header", message: "name must be an HTTP header name" }]);
  });

  it("escapes pointer segments (RFC 6901)", () => {
    expect(errorsOf({ name: "x", nested: { "a/b": "1" } })[0]?.path).toBe("/nested/a~1b");
  });

  it("describes errors on one line, the body itself as (body)", () => {
    expect(
      describeFieldErrors([
        { path: "", message: "expected an object" },
        { path: "/name", message: "required" },
      ]),
    ).toBe("(body): expected an object; /name: required");
  });
});
