/**
 * Evaluates the permit/forbid algebra (DSL.md §6.5, second paragraph) for a caller's role set:
 * the meaning the policies, the app layer and the RBAC matrix must all agree on. Used by
 * `explain` and the RBAC model, never by the SQL compiler (which must stay independent of it).
 */
import type { PermitExpr } from "./ir";

/** Whether `e` holds for a caller holding `roles`; `authenticated` means the caller has a user id. */
export function permits(e: PermitExpr, roles: readonly string[], authenticated: boolean): boolean {
  switch (e.kind) {
    case "role":
      return roles.includes(e.role);
    case "authenticated":
      return authenticated;
    case "anyone":
      return true;
    case "never":
      return false;
    case "and":
      return e.children.every((c) => permits(c, roles, authenticated));
    case "or":
      return e.children.some((c) => permits(c, roles, authenticated));
    case "not":
      return !permits(e.child, roles, authenticated);
  }
}
