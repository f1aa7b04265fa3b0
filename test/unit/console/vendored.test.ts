// public/console/assets/htmx.min.js is the pinned npm package's dist file plus a one-line license
// header, byte for byte: an upgrade of htmx.org in package.json that forgets the copy fails here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const require = createRequire(import.meta.url);

it("the vendored htmx is the pinned package's dist/htmx.min.js with its license header", () => {
  const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies["htmx.org"];
  const installed = JSON.parse(readFileSync(require.resolve("htmx.org/package.json"), "utf8")).version;
  expect(installed).toBe(pinned);
  const vendored = readFileSync(join(root, "public/console/assets/htmx.min.js"), "utf8");
  const [header, ...rest] = vendored.split("\n");
  expect(header).toBe(`/*! htmx ${pinned} (npm: htmx.org@${pinned}, dist/htmx.min.js), Zero-Clause BSD: see htmx.LICENSE beside this file */`);
  expect(rest.join("\n")).toBe(readFileSync(join(require.resolve("htmx.org/package.json"), "../dist/htmx.min.js"), "utf8"));
  expect(readFileSync(join(root, "public/console/assets/htmx.LICENSE"), "utf8")).toContain("Zero-Clause BSD");
});
