/** The leaves of a predicate tree: the one walk every pass that looks for atoms uses. */
import type { Predicate } from "./ir";

export type PredicateLeaf = Exclude<Predicate, { readonly kind: "and" | "or" | "not" }>;

/** Every leaf of `p`, left to right (`and`/`or`/`not` are looked through). */
export function predicateLeaves(p: Predicate): PredicateLeaf[] {
  switch (p.kind) {
    case "and":
    case "or":
      return p.children.flatMap(predicateLeaves);
    case "not":
      return predicateLeaves(p.child);
    default:
      return [p];
  }
}
