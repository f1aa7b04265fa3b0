import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Three projects, one command (`npm test`):
//   unit     pure core (policy, wire, counters, audit hashing) in Node: fast and table-driven
//   workers  the Durable Object, KV store and routes inside workerd (vitest-pool-workers)
//   e2e      real MCP clients -> the gateway running in workerd (Miniflare) -> real upstream MCP servers
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // AUDIT_SIGNING_KEY empty: a key `npm run dev` wrote into .dev.vars must not sign here;
            // the audit tests give their objects a key of their own.
            miniflare: { bindings: { ADMIN_TOKEN: "test-admin-token", GRANT_ID_SECRET: "test-grant-id-secret", AUDIT_SIGNING_KEY: "" } },
          }),
        ],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"], globalSetup: ["test/support/down-upstream.global.mjs"] },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
