/**
 * The builder's shared controls: element ids derived from field names (`f-` + name with dots as
 * dashes, so htmx keeps focus on the field being edited when the form is re-rendered), the buttons
 * of structural edits, and selects whose change re-renders the form.
 */

export interface BuilderUrls {
  /** Form fields → JSON pane. */
  json: string;
  /** JSON text → form fields. */
  form: string;
  /** Structural edits and "start from recommended". */
  edit: string;
  review: string;
}

export const idOf = (name: string) => `f-${name.replaceAll(".", "-")}`;

export function ActionButton(props: { urls: BuilderUrls; action: string; label: string; class?: string; describedBy?: string }) {
  return (
    <button
      type="submit"
      name="action"
      value={props.action}
      formaction={props.urls.edit}
      hx-post={props.urls.edit}
      hx-target="#builder-fields"
      class={props.class ?? "small"}
      aria-describedby={props.describedBy}
    >
      {props.label}
    </button>
  );
}

/** A select whose change re-renders the form (other fields depend on it). */
export const refreshing = (urls: BuilderUrls) => ({
  "hx-post": urls.edit,
  "hx-trigger": "change",
  "hx-target": "#builder-fields",
  "hx-vals": '{"action":"refresh"}',
});
