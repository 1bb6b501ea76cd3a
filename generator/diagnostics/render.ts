/**
 * Renders diagnostics rustc-style:
 *
 *     error[DZ3002]: FK path `invoice.project.orgg` does not resolve
 *       --> dsl/entities.dsl:231:11
 *         |
 *     231 |     list: invoice.project.orgg = current_user.org
 *         |           ^^^^^^^^^^^^^^^^^^^^
 *         = note: …
 *         = help: did you mean `org`?
 */
import type { Diagnostic } from "./diagnostic";
import { lineText, type SourceFile } from "./span";

export function renderDiagnostic(d: Diagnostic, files: ReadonlyMap<string, SourceFile>): string {
  const out = [`${d.severity}[${d.code}]: ${d.message}`];
  const gutter = d.span ? String(d.span.start.line).length : 1;
  const pad = " ".repeat(gutter);
  if (d.span) {
    const { file, start, end } = d.span;
    out.push(`${pad}--> ${file}:${start.line}:${start.column}`);
    const source = files.get(file);
    if (source) {
      const text = lineText(source, start.line);
      const last = end.line === start.line ? end.column : text.length + 1;
      const width = Math.max(1, last - start.column);
      out.push(`${pad} |`);
      out.push(`${start.line} | ${text}`);
      out.push(`${pad} | ${" ".repeat(start.column - 1)}${"^".repeat(width)}`);
    }
  }
  for (const note of d.notes) {
    const where = note.span ? ` (${note.span.file}:${note.span.start.line}:${note.span.start.column})` : "";
    out.push(`${pad} = note: ${note.message}${where}`);
  }
  if (d.help) out.push(`${pad} = help: ${d.help}`);
  return out.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], files: ReadonlyMap<string, SourceFile>): string {
  return ds.map((d) => renderDiagnostic(d, files) + "\n").join("\n");
}
