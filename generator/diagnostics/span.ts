/** Source positions, exactly the shape of Peggy's `location()` with a project-relative file. */

export interface Position {
  /** 0-based UTF-16 offset into the (normalised) file text. */
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
}

export interface Span {
  /** Posix path relative to the project root (the spec's directory in single-file mode). */
  readonly file: string;
  readonly start: Position;
  readonly end: Position;
}

/** A spec file after normalisation (BOM removed, CRLF/CR → LF), with a line table. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
  /** Offset of the first character of each line. */
  readonly lineStarts: readonly number[];
}

export function makeSourceFile(path: string, raw: string): SourceFile {
  const text = raw.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return { path, text, lineStarts };
}

export function positionAt(file: SourceFile, offset: number): Position {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { offset, line: lo + 1, column: offset - starts[lo]! + 1 };
}

export function spanOf(file: SourceFile, start: number, end: number): Span {
  return { file: file.path, start: positionAt(file, start), end: positionAt(file, Math.max(start, end)) };
}

/** The text of a 1-based line, without its newline. */
export function lineText(file: SourceFile, line: number): string {
  const start = file.lineStarts[line - 1];
  if (start === undefined) return "";
  const next = file.lineStarts[line];
  return file.text.slice(start, next === undefined ? file.text.length : next - 1);
}
