// Worker secrets are not in wrangler.toml, so `wrangler types` cannot see them.
declare namespace Cloudflare {
  interface Env {
    /** Guards /admin/*. When unset, the admin API refuses every request. */
    ADMIN_TOKEN?: string;
  }
}
