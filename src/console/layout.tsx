/**
 * The console's page shell and the small pieces every page uses. Rendered with Hono's JSX, which
 * escapes every text child and attribute value: upstream tool names and descriptions, labels and
 * error messages are attacker-controlled text and only ever go in as such (never through `raw`).
 *
 * A new page adds one entry to NAV and one module under src/console/pages/.
 */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { AdminFailure } from "./admin-client";
import { CATEGORIES, RISKS } from "../catalogue/classify";

export const NAV = [
  { key: "servers", href: "/console/servers", label: "Servers" },
  { key: "grants", href: "/console/grants", label: "Grants" },
  { key: "approvals", href: "/console/approvals", label: "Approvals" },
  { key: "audit", href: "/console/audit", label: "Audit" },
] as const;

export type NavKey = (typeof NAV)[number]["key"];

// No inline <style> (CSP), no eval (hx-on, js: values, trigger filters), no script tags in swapped
// HTML, nothing cached in localStorage (pages show grant tokens once), requests to this origin only.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
  defaultSwapStyle: "outerHTML",
});

export function Page(props: { title: string; nav?: NavKey; signedIn?: boolean; children?: Child }) {
  const signedIn = props.signedIn ?? true;
  return (
    <>
      {/* A constant: `raw` is never given text from a request or an upstream. */}
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title>{`${props.title} · mcp-policy-gateway`}</title>
          <link rel="stylesheet" href="/console/assets/console.css" />
          <script src="/console/assets/htmx.min.js" defer></script>
          <script src="/console/assets/console.js" defer></script>
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <span class="brand">mcp-policy-gateway</span>
            {signedIn ? (
              <nav aria-label="Console">
                <ul>
                  {NAV.map((item) => (
                    <li>
                      <a href={item.href} aria-current={props.nav === item.key ? "page" : undefined}>
                        {item.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            ) : null}
            {signedIn ? (
              <form method="post" action="/console/sign-out" class="sign-out">
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            ) : null}
          </header>
          <main id="main">
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/** A coloured risk badge; the class comes from a fixed list, never from the value itself. */
export function RiskBadge(props: { risk: string }) {
  const known = (RISKS as readonly string[]).includes(props.risk) ? props.risk : "unknown";
  return <span class={`badge risk-${known}`}>{props.risk}</span>;
}

export function CategoryTag(props: { category: string }) {
  const known = (CATEGORIES as readonly string[]).includes(props.category) ? props.category : "unknown";
  return <span class={`tag category-${known}`}>{props.category}</span>;
}

/** What the admin API refused, with its code and the JSON pointers of the fields it names. */
export function ErrorBox(props: { failure: AdminFailure | { error: string; message: string; details?: unknown }; title?: string }) {
  const details = Array.isArray(props.failure.details) ? (props.failure.details as unknown[]) : [];
  const pointers = details.filter(
    (item): item is { path: string; message: string } => typeof item === "object" && item !== null && typeof (item as { path?: unknown }).path === "string",
  );
  return (
    <div class="notice error" role="alert">
      <p>
        <strong>{props.title ?? "The gateway refused this"}</strong> <code>{props.failure.error}</code>
      </p>
      {pointers.length > 0 ? (
        <ul class="pointers">
          {pointers.map((item) => (
            <li>
              <code>{item.path === "" ? "(document)" : item.path}</code>: {item.message}
            </li>
          ))}
        </ul>
      ) : (
        <p>{props.failure.message}</p>
      )}
    </div>
  );
}

export function Notice(props: { kind?: "ok" | "warn" | "info"; children?: Child }) {
  return (
    <div class={`notice ${props.kind ?? "info"}`} role="status">
      {props.children}
    </div>
  );
}

/** A read-only block of text with a copy button (public/console/assets/console.js). */
export function CopyBlock(props: { id: string; label: string; text: string }) {
  return (
    <section class="copy-block" aria-labelledby={`${props.id}-label`}>
      <div class="copy-head">
        <span id={`${props.id}-label`}>{props.label}</span>
        <button type="button" class="copy" data-copy={props.id} aria-describedby={`${props.id}-label`}>
          Copy
        </button>
      </div>
      <pre id={props.id} tabindex={0}>
        {props.text}
      </pre>
    </section>
  );
}

export const when = (iso: string | null | undefined): string => (iso == null ? "—" : iso.replace("T", " ").replace(/\.\d+Z$/, "Z"));
