/**
 * JSON.parse keeps the last of two equal keys in an object and drops the first without a
 * word; whybox's JSON inputs (groups, schemas, reason templates) refuse them instead. This scans
 * text that JSON.parse already accepted (so it is valid JSON) in one linear pass.
 */

/** A key that appears twice in one object, with the 1-based line and column of the second. */
export interface DuplicateKey {
  key: string;
  line: number;
  column: number;
}

/** The first key repeated within one object of valid JSON `text`, or undefined. */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: (Set<string> | undefined)[] = []; // a Set per open object, undefined per array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push(undefined);
      expectKey = false;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (ch === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== undefined;
    } else if (ch === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        const keys = stack[stack.length - 1] as Set<string>;
        if (keys.has(key)) return { key, ...position(text, start) };
        keys.add(key);
        expectKey = false;
      }
    }
  }
  return undefined;
}

function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++)
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: at - lineStart + 1 };
}
