/**
 * The indentation pre-pass (DSL.md §1.2): turns a source file into top-level chunks whose text
 * has blank and comment-only lines removed, leading whitespace replaced by INDENT/DEDENT marker
 * characters, and every line ending in "\n". Peggy parses each chunk separately, so a syntax
 * error in one statement does not hide the errors of the others. Each chunk keeps a map from its
 * offsets back to the original file, so spans point at the source as written.
 */
import { indentedTopLevel, inconsistentIndentation, tabIndentation, unexpectedCharacter } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import { spanOf, type SourceFile, type Span } from "../diagnostics/span";

export const INDENT = "\uE000";
export const DEDENT = "\uE001";

export interface Chunk {
  readonly text: string;
  /** Maps an offset of `text` to a span offset in the original file. */
  readonly toOriginal: (offset: number) => number;
}

export interface Layout {
  readonly chunks: readonly Chunk[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Piece {
  /** Offset in the chunk text where this piece starts. */
  readonly t: number;
  /** Offset in the original text it maps to. */
  readonly o: number;
  /** Copied text advances with the original; markers map to one point. */
  readonly linear: boolean;
}

class ChunkBuilder {
  private text = "";
  private readonly pieces: Piece[] = [];

  marker(char: string, original: number): void {
    this.pieces.push({ t: this.text.length, o: original, linear: false });
    this.text += char;
  }

  copy(content: string, original: number): void {
    this.pieces.push({ t: this.text.length, o: original, linear: true });
    this.text += content;
  }

  build(): Chunk {
    const pieces = this.pieces;
    const text = this.text;
    return {
      text,
      toOriginal(offset: number): number {
        let lo = 0;
        let hi = pieces.length - 1;
        if (hi < 0) return 0;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (pieces[mid]!.t <= offset) lo = mid;
          else hi = mid - 1;
        }
        const p = pieces[lo]!;
        return p.linear ? p.o + (offset - p.t) : p.o;
      },
    };
  }
}

/** Splits `file` into top-level chunks with INDENT/DEDENT markers. */
export function layout(file: SourceFile): Layout {
  const diagnostics: Diagnostic[] = [];
  const chunks: Chunk[] = [];
  const span = (start: number, end: number): Span => spanOf(file, start, end);
  const { text } = file;

  let builder: ChunkBuilder | null = null;
  let stack = [0];
  let skippingStrayIndent = false;

  const closeChunk = (at: number) => {
    if (builder === null) return;
    for (let i = stack.length - 1; i > 0; i--) builder.marker(DEDENT, at);
    chunks.push(builder.build());
    builder = null;
    stack = [0];
  };

  for (let line = 0; line < file.lineStarts.length; line++) {
    const start = file.lineStarts[line]!;
    const next = file.lineStarts[line + 1];
    const end = next === undefined ? text.length : next - 1;
    let i = start;
    let width = 0;
    let sawTab = false;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 32) width += 1;
      else if (c === 9) {
        width += 4;
        sawTab = true;
      } else break;
    }
    if (i === end || text.charCodeAt(i) === 35 /* # */) continue; // blank or comment-only
    if (sawTab) diagnostics.push(tabIndentation(span(start, i)));

    let content = text.slice(i, end);
    // The marker characters are reserved for the pre-pass; in source they are simply invalid.
    if (content.includes(INDENT) || content.includes(DEDENT)) {
      const at = i + Math.max(content.indexOf(INDENT), content.indexOf(DEDENT));
      diagnostics.push(unexpectedCharacter(span(at, at + 1), "\\u" + text.charCodeAt(at).toString(16).toUpperCase()));
      content = content.replace(/[\uE000\uE001]/g, "\uFFFD");
    }

    if (width === 0) {
      closeChunk(i);
      builder = new ChunkBuilder();
      skippingStrayIndent = false;
      builder.copy(content, i);
      builder.marker("\n", end);
      continue;
    }
    if (builder === null) {
      // An indented line before any top-level statement.
      if (!skippingStrayIndent) diagnostics.push(indentedTopLevel(span(i, end)));
      skippingStrayIndent = true;
      continue;
    }
    const b: ChunkBuilder = builder;
    const top = stack[stack.length - 1]!;
    if (width > top) {
      stack.push(width);
      b.marker(INDENT, i);
    } else if (width < top) {
      while (stack.length > 1 && stack[stack.length - 1]! > width) {
        stack.pop();
        b.marker(DEDENT, i);
      }
      if (stack[stack.length - 1] !== width) {
        diagnostics.push(inconsistentIndentation(span(start, i), width, stack));
        // Recover as if the line were indented to the nearest enclosing block.
      }
    }
    b.copy(content, i);
    // The newline maps to one point: a file without a final newline gets no span past its end.
    b.marker("\n", end);
  }
  closeChunk(text.length);
  return { chunks, diagnostics };
}
