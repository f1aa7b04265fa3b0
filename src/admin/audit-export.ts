/**
 * The body of `GET /admin/grants/:id/audit/export`: NDJSON, streamed a page at a time from the
 * grant's object, never the whole log in memory (docs/audit.md, "Export").
 *
 * The header (signed by the grant's object) names the stretch; the records follow exactly as
 * stored. If a page does not continue where the last one ended (retention deleted records while
 * the export ran), the stream is broken off with an error rather than skip them: a file the
 * verifier would reject is never completed silently.
 */
import { headerLine, type ExportHeader } from "../audit/export";
import { grantObject } from "./grant-object";

const PAGE = 1000;

export function exportBody(env: Env, grantId: string, header: ExportHeader): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let last: number | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (last === null) {
        last = header.start.seq;
        controller.enqueue(encoder.encode(`${headerLine(header)}\n`));
        return;
      }
      if (last >= header.end.seq) return controller.close();
      const page = await grantObject(env, grantId).readAuditLines(last, header.end.seq, PAGE);
      if (page.first !== last + 1 || page.last === null) {
        console.error(JSON.stringify({ event: "audit_export_broken", grant: grantId, expected: last + 1, got: page.first }));
        return controller.error(new Error(`records after seq ${last} are no longer stored`));
      }
      controller.enqueue(encoder.encode(`${page.lines.join("\n")}\n`));
      last = page.last;
    },
  });
}
