/**
 * The server page's catalogue: every tool the upstream lists, with its category and a coloured risk
 * badge; a row's disclosure button shows the classifier's reasons, the recommendation and the
 * override form. Tool names and descriptions are the upstream's text (attacker-controlled): they are
 * only ever JSX text children and attribute values, which Hono escapes, and never part of a URL
 * path, an id or a class.
 */
import { CATEGORIES } from "../../catalogue/classify";
import { TOOL_NAME } from "../../policy/evaluate";
import { CategoryTag, RiskBadge } from "../layout";

export interface CatalogueTool {
  name: string;
  title: string | null;
  description: string | null;
  definition: { inputSchema?: { properties?: Record<string, unknown> } };
  classification: { category: string; risk: string; reasons: string[]; conflict: boolean };
  override: { category: string; set: string } | null;
  category: string;
  risk: string;
  recommended: { allowed: boolean; explanation: string };
}

export interface CatalogueView {
  serverId: string;
  fetched: string | null;
  protocolVersion: string | null;
  stale: boolean;
  lastAttempt: { outcome: string; at: string; error?: { code: string; message: string } } | null;
  tools: CatalogueTool[];
}

/** The override form; the tool's name travels as a form value, never in the URL. */
function OverrideForm(props: { action: string; tool: CatalogueTool; index: number }) {
  const { tool, index } = props;
  // MCP's tool-name characters: only such names can be overridden (docs/catalogue.md).
  if (!TOOL_NAME.test(tool.name)) {
    return <p class="hint">This name has characters outside MCP's tool-name set; it cannot be overridden or allowed by name.</p>;
  }
  return (
    <form method="post" action={props.action} class="inline">
      <input type="hidden" name="tool" value={tool.name} />
      <label for={`override-${index}`}>Category</label>
      <select id={`override-${index}`} name="category">
        {CATEGORIES.map((category) => (
          <option value={category} selected={category === tool.category}>
            {category}
          </option>
        ))}
      </select>
      <button type="submit">Set</button>
      {tool.override !== null ? (
        <button type="submit" name="clear" value="1">
          Clear override (classifier says {tool.classification.category})
        </button>
      ) : null}
    </form>
  );
}

/** The row a tool's disclosure button opens: why it was classified so, and the override. */
function ToolDetail(props: { overrides: string; tool: CatalogueTool; index: number }) {
  const { tool, index } = props;
  return (
    <tr id={`tool-${index}-detail`} class="detail" hidden>
      <td colspan={4}>
        <div class="detail-grid">
          <div>
            <h3>
              Why {tool.classification.category}, {tool.classification.risk} risk
            </h3>
            <ul>
              {tool.classification.reasons.map((reason) => (
                <li>{reason}</li>
              ))}
            </ul>
            {tool.classification.conflict ? <p class="notice warn">The server's annotations contradict the evidence above; the evidence wins.</p> : null}
            <p>
              <strong>Recommended:</strong> {tool.recommended.explanation}
            </p>
          </div>
          <div>
            <h3>Override the category</h3>
            <OverrideForm action={props.overrides} tool={tool} index={index} />
          </div>
        </div>
      </td>
    </tr>
  );
}

function ToolRow(props: { overrides: string; tool: CatalogueTool; index: number }) {
  const { tool, index } = props;
  return (
    <tbody class="tool">
      <tr>
        <th scope="row">
          <button type="button" class="disclosure" aria-expanded="false" aria-controls={`tool-${index}-detail`}>
            <span class="chevron" aria-hidden="true"></span>
            <span class="tool-name">{tool.name}</span>
          </button>
          {tool.title !== null && tool.title !== tool.name ? <div class="hint">{tool.title}</div> : null}
        </th>
        <td class="description">{tool.description ?? ""}</td>
        <td>
          <CategoryTag category={tool.category} />
          {tool.override !== null ? <span class="hint"> (override)</span> : null}
        </td>
        <td>
          <RiskBadge risk={tool.risk} />
        </td>
      </tr>
      <ToolDetail overrides={props.overrides} tool={tool} index={index} />
    </tbody>
  );
}

/** The catalogue as a table, one `tbody` per tool; `overrides` is where the override form posts. */
export function CatalogueTable(props: { overrides: string; tools: CatalogueTool[] }) {
  return (
    <div class="table-wrap">
      <table class="catalogue">
        <caption>Tools the upstream lists ({props.tools.length})</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Description</th>
            <th scope="col">Category</th>
            <th scope="col">Risk</th>
          </tr>
        </thead>
        {props.tools.map((tool, index) => (
          <ToolRow overrides={props.overrides} tool={tool} index={index} />
        ))}
      </table>
    </div>
  );
}
