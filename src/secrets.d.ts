// Worker secrets are not in wrangler.toml, so `wrangler types` cannot see them.
declare namespace Cloudflare {
  interface Env {
    /** Guards /admin/*. When unset, the admin API refuses every request. */
    ADMIN_TOKEN?: string;
    /** MACs grant ids (src/grant/token.ts). When unset, the gateway forwards nothing and no grant can be created. */
    GRANT_ID_SECRET?: string;
    /** Ed25519 private JWK signing audit checkpoints and exports (src/audit/signing.ts). When unset, nothing is signed. */
    AUDIT_SIGNING_KEY?: string;
  }
}
