/**
 * The CLI's exit codes and its one failure type. CI scripts branch on the exit code, so each keeps
 * its meaning (docs/cli.md, "Exit codes"):
 *   0  ok
 *   1  errors: a policy that does not lint, a broken audit chain, a gateway that cannot be reached
 *   2  usage: a bad argument or option, no gateway configured, a confirmation that was not given
 *   3  the gateway refused: it answered with an admin API error (`{ error, message }`)
 *
 * A command throws a `CliFailure` anywhere; main.ts turns it into a message and the exit code in one
 * place, like the admin API's AdminError.
 */
export const EXIT = { ok: 0, errors: 1, usage: 2, refused: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliFailure extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** What `--json` prints on stderr: `{ error: { code, message, … } }`. */
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get json(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** The admin API answered with an error; `status` and `code` are the gateway's own. */
export class GatewayRefusal extends CliFailure {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details?: unknown,
  ) {
    super(EXIT.refused, message, code, details);
  }

  override get json(): { error: Record<string, unknown> } {
    const body = super.json;
    return { error: { status: this.status, ...body.error } };
  }
}

export const usageError = (message: string): CliFailure => new CliFailure(EXIT.usage, message, "usage");

/** The command already said what went wrong (lint findings, a broken chain); only the exit code is left. */
export const reported = (exitCode: ExitCode): CliFailure => new CliFailure(exitCode, "", "reported");
