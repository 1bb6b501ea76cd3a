/** has_many/has_one child FKs and ON DELETE (DSL.md §4.6), aggregates' child FK (§4.8), refs to `subtype_of` entities (§4.1): check-relations, exact output and IR. */
import { analyze } from "../../compile";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";

const HEAD = 'app t "T"\npersona member "M":\n  description: "m"\n';
const P = "  permit:\n    read: role(member)\n";
const run = (text: string) => analyze({ files: [makeSourceFile("t.dz", HEAD + text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
const rendered = (text: string, codes: readonly string[]) => {
  const result = run(text);
  return renderDiagnostics(result.diagnostics.filter((d) => codes.some((c) => d.code.startsWith(c))), result.sources);
};

describe("check-relations", () => {
  test("ambiguous child FK of has_many and of an aggregate DZ2014, nullify on a required FK DZ4015, no ref back or unknown entity DZ2002, ref to a subtype DZ4016", () => {
    const spec =
      "entity Team:\n  members: has_many Person cascade\n  leads: has_one Lead nullify\n  slots: has_many Slot via Booking restrict\n  total: computed count(Person)\n" + P +
      "entity Person:\n  team: ref Team\n  former: ref Team\n" + P +
      "entity Lead:\n  team: ref Team required\n" + P +
      "entity Slot:\n  n: int\n" + P +
      "entity Booking:\n  team: ref Team\n  slot: ref Slot\n" + P +
      "entity Club:\n  nobody: has_many Slot\n  ghosts: has_many Ghost\n" + P +
      "entity Base:\n  x: int\n" + P +
      "entity Car:\n  subtype_of: Base\n  wheels: int\n" + P +
      "entity Garage:\n  car: ref Car\n" + P;
    expect(rendered(spec, ["DZ2002", "DZ2014", "DZ4015", "DZ4016"])).toBe(
      "error[DZ2014]: Person has 2 refs to Team (`team`, `former`): the child FK is ambiguous\n --> t.dz:5:21\n  |\n5 |   members: has_many Person cascade\n  |                     ^^^^^^\n" +
        "  = help: keep one `ref Team` in Person, or put the relation in a `via` junction\n\n" +
        "error[DZ4015]: `nullify` needs a nullable FK, but `Lead.team` is required\n --> t.dz:6:23\n  |\n6 |   leads: has_one Lead nullify\n  |                       ^^^^^^^\n" +
        "  = note: the FK is declared here (t.dz:17:3)\n\n" +
        "error[DZ2014]: Person has 2 refs to Team (`team`, `former`): the child FK is ambiguous\n --> t.dz:8:25\n  |\n8 |   total: computed count(Person)\n  |                         ^^^^^^\n" +
        "  = help: an aggregate needs exactly one `ref Team` in Person\n\n" +
        "error[DZ2002]: `has_many Slot`: Slot has no `ref Club` to be the child FK\n  --> t.dz:30:20\n   |\n30 |   nobody: has_many Slot\n   |                    ^^^^\n" +
        "   = help: add a field such as `club: ref Club` to Slot\n\n" +
        "error[DZ2002]: unknown entity `Ghost`\n  --> t.dz:31:20\n   |\n31 |   ghosts: has_many Ghost\n   |                    ^^^^^\n\n" +
        "error[DZ4016]: Car emits no table (it declares `subtype_of`), so it cannot be referenced\n  --> t.dz:44:12\n   |\n44 |   car: ref Car\n   |            ^^^\n" +
        "   = note: declared here (t.dz:39:3)\n   = help: reference the parent entity instead\n",
    );
  });

  test("a `subtype_of` entity is not in the IR (no table, no routes); the DZ1902 says so", () => {
    const spec = "entity Base:\n  x: int\n" + P + "entity Car:\n  subtype_of: Base\n  wheels: int\n" + P + "entity Boat:\n  subtype_of: Base\n" + P;
    const result = run(spec);
    expect(result.ir!.entities.map((e) => e.name)).toEqual(["Base"]);
    expect(rendered(spec, ["DZ1902"])).toBe(
      "warning[DZ1902]: `subtype_of` is not implemented in this version and is ignored\n --> t.dz:9:3\n  |\n9 |   subtype_of: Base\n  |   ^^^^^^^^^^\n" +
        "  = note: and 1 more in this file\n  = help: in this version the entity emits no table and no routes\n",
    );
  });

  test("two declarations giving one FK different actions are DZ4015", () => {
    const spec = "entity Team:\n  members: has_many Person cascade\n  roster: has_many Person nullify\n" + P + "entity Person:\n  team: ref Team\n" + P;
    expect(rendered(spec, ["DZ4015"])).toBe(
      "error[DZ4015]: conflicting ON DELETE for `Person.team`: SET NULL here, CASCADE in the other declaration\n --> t.dz:6:27\n  |\n6 |   roster: has_many Person nullify\n  |                           ^^^^^^^\n" +
        "  = note: the other declaration is here (t.dz:5:28)\n",
    );
  });

  test("the action lands on the child FK in the IR (via: on the junction's FK); no behaviour keeps NO ACTION (no onDelete)", () => {
    const spec =
      "entity Team:\n  members: has_many Person cascade\n  again: has_many Person cascade\n  slots: has_many Slot via Booking restrict\n  helpers: has_many Helper nullify\n  plain: has_many Note\n" + P +
      "entity Person:\n  team: ref Team\n" + P + "entity Helper:\n  team: ref Team\n" + P + "entity Note:\n  team: ref Team\n" + P +
      "entity Slot:\n  n: int\n" + P + "entity Booking:\n  team: ref Team\n  slot: ref Slot\n" + P;
    const result = run(spec);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const fks = result.ir!.entities.map((e) => [e.name, e.fields.filter((f) => f.type.kind === "ref").map((f) => [f.name, f.onDelete ?? "no action"])]);
    expect(fks).toEqual([
      ["Booking", [["team", "restrict"], ["slot", "no action"]]],
      ["Helper", [["team", "set null"]]],
      ["Note", [["team", "no action"]]],
      ["Person", [["team", "cascade"]]],
      ["Slot", []],
      ["Team", []],
    ]);
  });
});
