/**
 * Node constructors of the access algebra that simplify as they build (DSL.md §6.5): AND drops
 * TRUE children and collapses to FALSE on a FALSE child; OR drops FALSE and collapses to TRUE on
 * a TRUE child; NOT flips constants and cancels double negation; a single child unwraps; an empty
 * AND is TRUE and an empty OR is FALSE. Nested nodes of the same kind are flattened. NOT of a
 * column `in`/`is` test flips its operator.
 */
import type { PermitExpr, Predicate } from "./ir";

const TRUE: Predicate = { kind: "true" };
const FALSE: Predicate = { kind: "false" };

export function and(children: readonly Predicate[]): Predicate {
  const kept: Predicate[] = [];
  for (const c of children) {
    if (c.kind === "false") return FALSE;
    if (c.kind === "true") continue;
    if (c.kind === "and") kept.push(...c.children);
    else kept.push(c);
  }
  if (kept.length === 0) return TRUE;
  return kept.length === 1 ? kept[0]! : { kind: "and", children: kept };
}

export function or(children: readonly Predicate[]): Predicate {
  const kept: Predicate[] = [];
  for (const c of children) {
    if (c.kind === "true") return TRUE;
    if (c.kind === "false") continue;
    if (c.kind === "or") kept.push(...c.children);
    else kept.push(c);
  }
  if (kept.length === 0) return FALSE;
  return kept.length === 1 ? kept[0]! : { kind: "or", children: kept };
}

export function not(child: Predicate): Predicate {
  if (child.kind === "true") return FALSE;
  if (child.kind === "false") return TRUE;
  if (child.kind === "not") return child.child;
  if (child.kind === "column") {
    // Exact in SQL's three-valued logic: NOT (f IN (…)) is f NOT IN (…) (both NULL for a NULL f,
    // the list holds no NULL), and NOT (f IS TRUE) is f IS NOT TRUE. Not for FK paths: there
    // NOT (fk IN ids(f in …)) admits rows whose terminal value is NULL, fk IN ids(f not in …) not.
    switch (child.op) {
      case "in":
      case "not in":
        return { ...child, op: child.op === "in" ? "not in" : "in" };
      case "is":
      case "is not":
        return { ...child, op: child.op === "is" ? "is not" : "is" };
      default:
        break;
    }
  }
  return { kind: "not", child };
}

const ANYONE: PermitExpr = { kind: "anyone" };
const NEVER: PermitExpr = { kind: "never" };

/** Structural equality for de-duplicating role tests (`role(a) or role(a)`). */
const sameExpr = (a: PermitExpr, b: PermitExpr) => JSON.stringify(a) === JSON.stringify(b);

function dedupe(list: PermitExpr[]): PermitExpr[] {
  return list.filter((e, i) => list.findIndex((x) => sameExpr(x, e)) === i);
}

export function permitAnd(children: readonly PermitExpr[]): PermitExpr {
  const kept: PermitExpr[] = [];
  for (const c of children) {
    if (c.kind === "never") return NEVER;
    if (c.kind === "anyone") continue;
    if (c.kind === "and") kept.push(...c.children);
    else kept.push(c);
  }
  const unique = dedupe(kept);
  if (unique.length === 0) return ANYONE;
  return unique.length === 1 ? unique[0]! : { kind: "and", children: unique };
}

export function permitOr(children: readonly PermitExpr[]): PermitExpr {
  const kept: PermitExpr[] = [];
  for (const c of children) {
    if (c.kind === "anyone") return ANYONE;
    if (c.kind === "never") continue;
    if (c.kind === "or") kept.push(...c.children);
    else kept.push(c);
  }
  const unique = dedupe(kept);
  if (unique.length === 0) return NEVER;
  return unique.length === 1 ? unique[0]! : { kind: "or", children: unique };
}

export function permitNot(child: PermitExpr): PermitExpr {
  if (child.kind === "anyone") return NEVER;
  if (child.kind === "never") return ANYONE;
  if (child.kind === "not") return child.child;
  return { kind: "not", child };
}
