/**
 * The builder's JSON half: the document as text (editable), its errors exactly as the admin API
 * would answer a save, and the way to review and save.
 */
import type { Child } from "hono/jsx";
import type { PolicyError } from "../../policy/schema";
import type { BuilderUrls } from "./controls";

export function PolicyErrors(props: { errors: readonly PolicyError[] | null; syntax?: string | null; oob?: boolean }) {
  const content: Child =
    props.syntax != null ? (
      <p>
        <strong>Not JSON the API accepts:</strong> {props.syntax}
      </p>
    ) : props.errors === null || props.errors.length === 0 ? (
      <p class="valid">Valid policy.</p>
    ) : (
      <>
        <p>
          <strong>{props.errors.length === 1 ? "1 problem" : `${props.errors.length} problems`}</strong> (the admin API answers the same):
        </p>
        <ul class="pointers">
          {props.errors.map((error) => (
            <li>
              <code>{error.path === "" ? "(document)" : error.path}</code>: {error.message}
            </li>
          ))}
        </ul>
      </>
    );
  const invalid = props.syntax != null || (props.errors !== null && props.errors.length > 0);
  return (
    <div id="policy-errors" class={invalid ? "policy-errors invalid" : "policy-errors"} aria-live="polite" hx-swap-oob={props.oob ? "true" : undefined}>
      {content}
    </div>
  );
}

/** The JSON half: the document as text (editable), its errors, and the way to save. */
export function JsonPane(props: {
  urls: BuilderUrls;
  text: string;
  errors: readonly PolicyError[] | null;
  syntax?: string | null;
  oob?: boolean;
  notice?: Child;
}) {
  return (
    <div id="json-pane" class="json-pane" hx-swap-oob={props.oob ? "true" : undefined}>
      {props.notice ?? null}
      <label for="policy-json">Policy JSON (edit here or in the form)</label>
      <textarea
        id="policy-json"
        name="document"
        rows={24}
        spellcheck={false}
        autocomplete="off"
        hx-post={props.urls.form}
        hx-trigger="input delay:500ms"
        hx-target="#builder-fields"
        hx-swap="outerHTML"
        hx-sync="#builder:replace"
      >
        {props.text}
      </textarea>
      <PolicyErrors errors={props.errors} syntax={props.syntax ?? null} />
      <div class="actions">
        <button type="submit" class="primary" formaction={props.urls.review}>
          Review changes and save…
        </button>
      </div>
    </div>
  );
}
