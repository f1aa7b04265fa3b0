/**
 * A line diff as a figure: a caption with the counts, then every line marked added, removed or the
 * same (src/console/diff.ts computes it). The marks are visual and also spelled out for screen
 * readers. Lines are JSX text: a diff of upstream text is escaped like any other. `wrap` wraps long
 * lines (a tool's description is one line of prose) instead of scrolling them sideways.
 */
import { diffSize, type DiffLine } from "./diff";

export function DiffView(props: { lines: DiffLine[]; label: string; wrap?: boolean }) {
  const size = diffSize(props.lines);
  return (
    <figure class={props.wrap ? "diff wrap" : "diff"}>
      <figcaption>
        {props.label}: <span class="added">+{size.added}</span> <span class="removed">−{size.removed}</span>
      </figcaption>
      <pre>
        {props.lines.map((line) => (
          <span class={`line ${line.kind}`}>
            <span class="sign" aria-hidden="true">
              {line.kind === "added" ? "+" : line.kind === "removed" ? "−" : " "}
            </span>
            <span class="visually-hidden">{line.kind === "same" ? "" : `${line.kind}: `}</span>
            {line.text}
            {"\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}
