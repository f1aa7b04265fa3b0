/**
 * Rate-limit windows (docs/policy.md, "limits"): PolicyLayer's names, or a number of seconds.
 * The one table from window name to seconds.
 */
export const WINDOW_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;

export type WindowName = keyof typeof WINDOW_SECONDS;

export function windowSeconds(window: WindowName | number): number {
  return typeof window === "number" ? window : WINDOW_SECONDS[window];
}

/** "minute", "hour", "day", or "N seconds": how PolicyLayer authors wrote the window. */
export function describeWindow(seconds: number): string {
  if (seconds === 60) return "minute";
  if (seconds === 3600) return "hour";
  if (seconds === 86400) return "day";
  return `${seconds} seconds`;
}
