/** Access lints of DSL.md §6.12 (lint-access) and the access diagnostics of check-access not covered elsewhere: exact rendered output. */
import { analyze } from "../../compile";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";

const HEAD = 'app t "T"\npersona member "M":\n  description: "m"\npersona admin "A":\n  description: "a"\n';
/** The rendered diagnostics of a one-file project whose code starts with one of `codes`. */
const rendered = (text: string, codes: readonly string[]) => {
  const result = analyze({ files: [makeSourceFile("t.dz", HEAD + text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
  return renderDiagnostics(result.diagnostics.filter((d) => codes.some((c) => d.code.startsWith(c))), result.sources);
};
const LINTS = ["DZ3011", "DZ3012", "DZ3017"];

describe("lint-access", () => {
  test("DZ3011 permitted roles without a scope rule, DZ3017 update without read/list, DZ3012 dead role in `as:`; forbidden roles are not permitted", () => {
    const spec =
      "entity Doc:\n  owner: ref Doc\n  permit:\n    read: role(member) or role(admin)\n    update: role(member)\n    delete: role(admin)\n    list: role(admin)\n" +
      "  forbid:\n    delete: role(member) or role(admin)\n  scope:\n    list: all\n      as: admin\n    update: owner = current_user\n      as: member, admin\n    delete: all\n      as: *\n";
    expect(rendered(spec, LINTS)).toBe(
      "warning[DZ3011]: roles `member`, `admin` may `read` Doc, but no `read` scope rule covers them: always denied\n --> t.dz:9:5\n  |\n9 |     read: role(member) or role(admin)\n  |     ^^^^\n" +
        "  = help: add a `read:` scope rule with `as: member, admin` (or `as: *`), or drop the roles from this permit rule\n\n" +
        "warning[DZ3017]: role `member` has an `update` scope rule on Doc but no `read` or `list` rule: the update affects no rows\n  --> t.dz:19:11\n   |\n19 |       as: member, admin\n   |           ^^^^^^\n" +
        "   = note: PostgreSQL applies the SELECT policy to the rows an UPDATE reads\n   = help: add a `read:` or `list:` scope rule for `member`\n\n" +
        "warning[DZ3012]: no `update` permit rule of Doc allows role `admin`: this part of the scope rule never applies\n  --> t.dz:19:19\n   |\n19 |       as: member, admin\n   |                   ^^^^^\n" +
        "   = help: add `role(admin)` to the `update:` permit rule, or remove `admin` from `as:`\n",
    );
  });

  test("DZ3017 for `as: *` when no read or list rule exists at all", () => {
    expect(rendered("entity Doc:\n  n: int\n  permit:\n    update: authenticated\n  scope:\n    update: n = 1\n      as: *\n", LINTS)).toBe(
      "warning[DZ3017]: `as: *` has an `update` scope rule on Doc but no `read` or `list` rule: the update affects no rows\n  --> t.dz:12:7\n   |\n12 |       as: *\n   |       ^^^^^\n" +
        "   = note: PostgreSQL applies the SELECT policy to the rows an UPDATE reads\n   = help: add a `read:` or `list:` scope rule for every role\n",
    );
  });

  test("no lint: `authenticated` allows every role in `as:`, `as: *` covers every permitted role, entities without a scope block have no scope lints", () => {
    expect(rendered("entity Doc:\n  n: int\n  permit:\n    update: authenticated\n    read: role(member)\n  scope:\n    read: all\n      as: member\n    update: n = 1\n      as: *\n", LINTS)).toBe("");
    expect(rendered("entity Doc:\n  n: int\n  permit:\n    read: role(member)\n    delete: role(admin)\n", LINTS)).toBe("");
  });
});

describe("check-access diagnostics", () => {
  test("`false` in forbid DZ1032, LATER atoms DZ3013 (has_grant, f[T].x, current_tenant), a function in scope DZ3016", () => {
    const spec =
      "entity Doc:\n  n: int\n  owner: ref Doc\n  permit:\n    read: role(member) or has_grant(\"edit\", owner)\n    list: role(member)\n  forbid:\n    delete: false\n" +
      "  scope:\n    read: days_since(n) > 3\n      as: member\n    list: owner[Doc].n = 1 or n = current_tenant\n      as: member\n";
    expect(rendered(spec, ["DZ1032", "DZ3013", "DZ3016"])).toBe(
      "warning[DZ3013]: `has_grant(…)` is not implemented in this version and is always false\n  --> t.dz:10:27\n   |\n10 |     read: role(member) or has_grant(\"edit\", owner)\n   |                           ^^^^^^^^^^^^^^^^^^^^^^^^\n\n" +
        "error[DZ1032]: `false` in `forbid:` forbids nothing\n  --> t.dz:13:13\n   |\n13 |     delete: false\n   |             ^^^^^\n   = help: remove the rule\n\n" +
        "error[DZ3016]: function call `days_since(…)` is not allowed in a scope predicate\n  --> t.dz:15:11\n   |\n15 |     read: days_since(n) > 3\n   |           ^^^^^^^^^^^^^\n\n" +
        "warning[DZ3013]: a polymorphic path `f[T].x` is not implemented in this version and is always false\n  --> t.dz:17:11\n   |\n17 |     list: owner[Doc].n = 1 or n = current_tenant\n   |           ^^^^^^^^^^^^\n\n" +
        "warning[DZ3013]: `current_tenant` is not implemented in this version and is always false\n  --> t.dz:17:35\n   |\n17 |     list: owner[Doc].n = 1 or n = current_tenant\n   |                                   ^^^^^^^^^^^^^^\n",
    );
  });
});
