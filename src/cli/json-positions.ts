/**
 * Where each JSON pointer of a document starts in its text, so `policy lint` can say
 * `policy.json:12:9` and GitHub can annotate the line. Pure; only run on text the strict parser
 * (src/mcp/json.ts) accepted, so the walk below needs no error handling of its own.
 *
 * An object member is located at its key (an "unknown key" error points at the key), an array
 * element at its value.
 */
import { pointerSegment } from "../policy/schema";

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

/** An offset's line and column, by bisection over the offsets where lines start. */
function positionFinder(text: string): (index: number) => Position {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  return (index) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (lineStarts[middle]! <= index) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: index - lineStarts[low]! + 1 };
  };
}

export function jsonPositions(text: string): Map<string, Position> {
  const positionOf = positionFinder(text);
  const positions = new Map<string, Position>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (pointer: string) => {
    skipSpace();
    if (!positions.has(pointer)) positions.set(pointer, positionOf(i));
    const c = text[i];
    if (c === "{") {
      i++;
      skipSpace();
      while (text[i] !== "}") {
        skipSpace();
        const keyAt = i;
        const key = readString();
        const child = `${pointer}/${pointerSegment(key)}`;
        positions.set(child, positionOf(keyAt));
        skipSpace();
        i++; // ':'
        readValue(child);
        skipSpace();
        if (text[i] === ",") i++;
        skipSpace();
      }
      i++;
    } else if (c === "[") {
      i++;
      skipSpace();
      for (let index = 0; text[i] !== "]"; index++) {
        readValue(`${pointer}/${index}`);
        skipSpace();
        if (text[i] === ",") i++;
        skipSpace();
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      while (i < text.length && !",]} \t\r\n".includes(text[i]!)) i++;
    }
  };
  readValue("");
  return positions;
}

/** Where an offset (a parse error's) is, in the same terms. */
export const positionAt = (text: string, offset: number): Position => positionFinder(text)(offset);

/** The position of a pointer, or of its nearest ancestor that exists (a missing key's object). */
export function locate(positions: ReadonlyMap<string, Position>, pointer: string): Position | undefined {
  for (let at = pointer; ; at = at.slice(0, at.lastIndexOf("/"))) {
    const found = positions.get(at);
    if (found !== undefined || at === "") return found;
  }
}
