/** Name conversions shared by the linker and lowering (DSL.md §4.2). */

/**
 * snake_case of an entity name: `_` before an upper-case letter that follows a lower-case letter
 * or digit, or that follows an upper-case letter and precedes a lower-case one; then lower-case.
 * `LineItem` → `line_item`, `IBGPolicy` → `ibg_policy`, `User` → `user`.
 */
export function snakeCase(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const prev = name[i - 1];
    const next = name[i + 1];
    const isUpper = c >= "A" && c <= "Z";
    if (isUpper && prev !== undefined) {
      const prevLowerOrDigit = (prev >= "a" && prev <= "z") || (prev >= "0" && prev <= "9");
      const prevUpper = prev >= "A" && prev <= "Z";
      const nextLower = next !== undefined && next >= "a" && next <= "z";
      if (prevLowerOrDigit || (prevUpper && nextLower)) out += "_";
    }
    out += c.toLowerCase();
  }
  return out;
}

/** English plural of the last word, for URL segments (`category` → `categories`). */
export function pluralize(word: string): string {
  if (/(s|x|z|ch|sh)$/.test(word)) return word + "es";
  if (/[^aeiou]y$/.test(word)) return word.slice(0, -1) + "ies";
  return word + "s";
}

/** URL segment of an entity: kebab-case plural (`LineItem` → `line-items`). */
export function routeSegment(entityName: string): string {
  const words = snakeCase(entityName).split("_");
  words[words.length - 1] = pluralize(words[words.length - 1]!);
  return words.join("-");
}

/** Folder/module name of an entity in generated code: kebab-case singular. */
export function kebabCase(entityName: string): string {
  return snakeCase(entityName).replace(/_/g, "-");
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d > limit) continue;
    if (d < bestDistance || (d === bestDistance && c < best!)) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
