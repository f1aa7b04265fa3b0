/**
 * `approval_timeout` (docs/policy.md, "Approvals"): how long an approval request stays open, as
 * "30s", "15m", "24h", "7d", or a whole number of seconds. The one table from unit to seconds.
 */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** An approval request left undecided this long expires. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 15 * 60;
/** The longest an approval request may stay open: its argument values are kept that long. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 7 * 86_400;

/** `<digits><unit>`, without a leading zero; the number of seconds then comes from UNIT_SECONDS. */
export const DURATION_TEXT = /^[1-9][0-9]{0,9}[smhd]$/;

/** Seconds of a duration as a policy writes it; null when it is not one. */
export function durationSeconds(value: string | number): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : null;
  if (!DURATION_TEXT.test(value)) return null;
  const unit = value.at(-1) as keyof typeof UNIT_SECONDS;
  return Number(value.slice(0, -1)) * UNIT_SECONDS[unit];
}
