/**
 * `mpg audit export <grant> -o <file>`: a grant's signed audit export (docs/audit.md, "Export"),
 * written to a file byte for byte as the gateway sent it, for `mpg verify-audit` or an auditor.
 *
 * The bytes never pass through the terminal's redaction: changing one would break the signature.
 * That is also why there is no stdout mode: every line printed is filtered. The file is written
 * aside and renamed once the whole answer is in, so a broken-off export never sits under the name
 * asked for (and a file cut short would fail verification anyway).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { segment } from "../admin-api";
import { action, emit, type Cli } from "../context";
import { CliFailure, EXIT, usageError } from "../failure";

interface ExportOptions {
  output: string;
  after?: string;
  until?: string;
}

function seqOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw usageError(`--${name} takes a record number (0 or more)`);
  return n;
}

/** The export's first line, read back for the summary. */
async function headerOf(file: string): Promise<{ start: { seq: number }; end: { seq: number }; keyId: string | null } | null> {
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    try {
      return JSON.parse(line);
    } catch {
      return null;
    }
  }
  return null;
}

export function exportAudit(audit: Command, cli: Cli): void {
  audit
    .command("export")
    .description("Save the grant's signed audit export (NDJSON) to a file, for verify-audit or an auditor")
    .argument("<grant>", "the grant id (deleted grants too)")
    .requiredOption("-o, --output <file>", "where to write it")
    .option("--after <seq>", "only records after this one")
    .option("--until <seq>", "up to this record (extended to the checkpoint that covers it)")
    .addHelpText("after", "\nExamples:\n  $ mpg audit export g0123… -o audit.ndjson\n  $ mpg audit export g0123… --after 1000 -o audit-1001.ndjson")
    .action(
      action<ExportOptions>(async ([grantId], options) => {
        const after = seqOption("after", options.after);
        const until = seqOption("until", options.until);
        if (after !== undefined && until !== undefined && until < after) throw usageError("--until must not be before --after");
        const query = new URLSearchParams();
        if (after !== undefined) query.set("after", String(after));
        if (until !== undefined) query.set("until", String(until));
        const api = await cli.gateway(options);
        const body = await api.download(`/grants/${segment(grantId!)}/audit/export${query.size > 0 ? `?${query}` : ""}`);
        const partial = `${options.output}.partial-${process.pid}`;
        try {
          await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o644 }));
          await rename(partial, options.output);
        } catch (error) {
          await rm(partial, { force: true });
          const reason = (error as { code?: unknown } | null)?.code ?? (error instanceof Error ? error.message : String(error));
          throw new CliFailure(EXIT.errors, `The export was not saved: ${String(reason)}`, "export_failed");
        }
        const header = await headerOf(options.output);
        emit(
          cli,
          options,
          { grantId, file: options.output, start: header?.start.seq ?? null, end: header?.end.seq ?? null, keyId: header?.keyId ?? null },
          () => {
            const colours = cli.terminal.stdout;
            const records = header === null ? "" : header.end.seq === header.start.seq ? "no records" : `records ${header.start.seq + 1} to ${header.end.seq}`;
            const range = header === null ? "" : ` (${records}${header.keyId === null ? ", unsigned" : ""})`;
            return `${colours.green("✓")} Saved ${options.output}${range}\n  Check it: mpg verify-audit ${options.output} --key <the gateway's /.well-known/mcp-policy-gateway/audit-keys>\n`;
          },
        );
      }),
    );
}
