/** A titled group of statements: `-- <title>` above the first block, blank lines between blocks. */
export function sqlSection(title: string, blocks: readonly string[]): string {
  return `-- ${title}\n${blocks.join("\n\n")}`;
}
