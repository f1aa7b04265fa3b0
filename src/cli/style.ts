/**
 * How the CLI looks to a person: colours and aligned tables, as plain functions over strings.
 *
 * Colour follows the conventions other CLIs honour: `NO_COLOR` (any non-empty value) turns it off
 * (no-color.org), `FORCE_COLOR` (anything but "0") turns it on, `--no-color` turns it off, and
 * otherwise a stream gets colour only when it is a terminal and `TERM` is not "dumb". Each stream
 * decides for itself: `mpg grants list | less` keeps colour on stderr's messages only.
 */

export interface Palette {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export function palette(enabled: boolean): Palette {
  const plain = (text: string) => text;
  return {
    enabled,
    bold: enabled ? sgr(1, 22) : plain,
    dim: enabled ? sgr(2, 22) : plain,
    red: enabled ? sgr(31, 39) : plain,
    green: enabled ? sgr(32, 39) : plain,
    yellow: enabled ? sgr(33, 39) : plain,
    cyan: enabled ? sgr(36, 39) : plain,
    magenta: enabled ? sgr(35, 39) : plain,
  };
}

export function colourWanted(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

// CSI sequences (colours) and OSC sequences (hyperlinks): what a terminal draws as nothing.
const ESCAPES = /\u001b\[[0-9;]*[A-Za-z]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

const stripEscapes = (text: string): string => text.replace(ESCAPES, "");

/**
 * Columns a string takes in a terminal: code points, not UTF-16 units, without escape sequences.
 * East Asian wide characters count as one; names and ids in this product are ASCII.
 */
export const displayWidth = (text: string): number => [...stripEscapes(text)].length;

/**
 * Control characters in text that came from the gateway or an upstream (tool names, descriptions,
 * audit messages), made visible: printed raw, an ESC could rewrite the operator's terminal.
 */
export const printable = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** "1 grant", "2 grants": a count with its noun, in English plural. */
export const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Rows with their columns aligned by display width, two spaces apart; the last column is not padded. */
export function columns(rows: readonly (readonly string[])[]): string {
  const count = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, column) => Math.max(0, ...rows.map((row) => displayWidth(row[column] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - displayWidth(cell))))
      .join("  ")
      .trimEnd();
  return rows.map((row) => `${line(row)}\n`).join("");
}

/**
 * An aligned table in the style of kubectl and gh: an upper-case bold header, columns two spaces
 * apart, no borders. Cells may hold colour; widths ignore it.
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], colours: Palette): string {
  const [head = "", ...body] = columns([headers.map((header) => header.toUpperCase()), ...rows]).split("\n");
  return [colours.bold(head), ...body].join("\n");
}

/** `key: value` lines with the keys aligned, for `show` commands. */
export function fields(entries: readonly (readonly [string, string])[], colours: Palette): string {
  const width = Math.max(0, ...entries.map(([key]) => displayWidth(key)));
  return `${entries.map(([key, value]) => `${colours.dim(`${key}:`.padEnd(width + 1))} ${value}`).join("\n")}\n`;
}
