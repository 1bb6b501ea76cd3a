/** Check and lower of entity rules, tenancy, events, audit and personas (issue 3): exact diagnostics and IR. */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import type { ProjectInput } from "../../read-project";

const input = (text: string): ProjectInput => ({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
const HEAD = 'app t "T"\npersona agent "A":\n  description: "a"\n';
const PERMIT = "  permit:\n    read: role(agent)\n";
const mine = (text: string, prefixes: string[]) =>
  analyze(input(HEAD + text))
    .diagnostics.filter((d) => prefixes.some((p) => d.code.startsWith(p)))
    .map((d) => `${d.code} ${d.severity} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`);
const entityIr = (text: string, name: string) => analyze(input(HEAD + text)).ir!.entities.find((e) => e.name === name)!;

describe("check-invariants", () => {
  const T = "entity Ticket:\n  status: enum[open,resolved]\n  resolution: text\n  n: int\n";
  test("bare enum values are literals; `= null` is IS NULL; row-local invariants (pitfalls 5, 6)", () => {
    const rules = entityIr(`${T}  invariant: status != resolved or resolution != null\n    code: needs_resolution\n  invariant: status = open or n > 0\n${PERMIT}`, "Ticket").rules!;
    expect(rules.invariants).toEqual([
      {
        name: "needs_resolution", code: "needs_resolution", message: "status != resolved or resolution != null", source: "status != resolved or resolution != null", rowLocal: true,
        expr: {
          kind: "or",
          operands: [
            { kind: "compare", op: "!=", left: { kind: "column", column: "status" }, right: { kind: "enumLiteral", value: "resolved" } },
            { kind: "isNull", negated: true, operand: { kind: "column", column: "resolution" } },
          ],
        },
      },
      {
        name: "inv_2", code: null, message: "status = open or n > 0", source: "status = open or n > 0", rowLocal: true,
        expr: {
          kind: "or",
          operands: [
            { kind: "compare", op: "=", left: { kind: "column", column: "status" }, right: { kind: "enumLiteral", value: "open" } },
            { kind: "compare", op: ">", left: { kind: "column", column: "n" }, right: { kind: "literal", value: 0 } },
          ],
        },
      },
    ]);
  });

  test("unknown names DZ2013, incompatible types and non-boolean DZ4008, null in a list DZ4008, shadowing DZ3015", () => {
    expect(
      mine(
        `${T}  open: bool\n  invariant: status = closed\n  invariant: n = "x"\n  invariant: n + 1\n  invariant: status in [open, null]\n${PERMIT}`,
        ["DZ2013", "DZ4008", "DZ3015"],
      ),
    ).toEqual([
      "DZ2013 error 9:23 `closed` is neither a field of this entity nor a value of the enum it is compared with",
      "DZ4008 error 10:14 cannot compare a number value with a text value",
      "DZ4008 error 11:14 an invariant must be a condition (boolean), not a number value",
      "DZ3015 warning 12:25 `open` is read as a value of the enum `status`, although a field has that name",
      "DZ4008 error 12:31 `null` in an `in [...]` list never matches; test `is null` separately",
    ]);
  });

  test("today() and dotted refs make an invariant non-row-local", () => {
    const rules = entityIr(`${T}  due: date\n  invariant: due >= today - 7d\n${PERMIT}`, "Ticket").rules!;
    expect(rules.invariants[0]!.rowLocal).toBe(false);
  });
});

describe("check-transitions", () => {
  test("state field, ORed roles, requires, `*` edges last, auto after not available to the API (pitfall 4)", () => {
    const sm = entityIr(
      "entity Doc:\n  kind: enum[a,b]\n  status: enum[draft,sent,void]\n  note: text\n  transitions:\n    * -> void: role(agent)\n" +
        "    draft -> sent: role(agent) or role(boss) requires note\n    sent -> draft: auto after 3 days\n" + PERMIT,
      "Doc",
    ).rules!.stateMachines;
    expect(sm).toEqual([{
      field: "status",
      transitions: [
        { from: "draft", to: "sent", roles: ["agent", "boss"], requires: ["note"], availableToApi: true, autoAfter: null },
        { from: "sent", to: "draft", roles: [], requires: [], availableToApi: false, autoAfter: "3 days" },
        { from: null, to: "void", roles: ["agent"], requires: [], availableToApi: true, autoAfter: null },
      ],
    }]);
    expect(mine("entity Doc:\n  status: enum[draft,sent]\n  transitions:\n    draft -> sent: role(boss)\n" + PERMIT, ["DZ2008"])).toEqual([
      "DZ2008 warning 7:25 unknown role `boss` (no persona declares it)",
    ]);
  });

  test("blocks over different enum fields are separate machines; blocks over one field merge (§4.9)", () => {
    const machines = entityIr(
      "entity Doc:\n  stage: enum[draft, live] = draft\n  status: enum[open, closed] = open\n  transitions:\n    * -> draft: role(agent)\n    draft -> live\n" +
        "  transitions:\n    open -> closed\n  transitions:\n    live -> draft\n" + PERMIT,
      "Doc",
    ).rules!.stateMachines;
    expect(machines).toEqual([
      {
        field: "stage",
        transitions: [
          { from: "draft", to: "live", roles: [], requires: [], availableToApi: true, autoAfter: null },
          { from: "live", to: "draft", roles: [], requires: [], availableToApi: true, autoAfter: null },
          { from: null, to: "draft", roles: ["agent"], requires: [], availableToApi: true, autoAfter: null },
        ],
      },
      { field: "status", transitions: [{ from: "open", to: "closed", roles: [], requires: [], availableToApi: true, autoAfter: null }] },
    ]);
    expect(entityIr("entity Doc:\n  n: int\n" + PERMIT, "Doc").rules!.stateMachines).toEqual([]);
  });

  test("a state that is no value of `status` is DZ4007; an unknown `requires` field DZ2003", () => {
    expect(mine("entity Doc:\n  status: enum[draft,sent]\n  transitions:\n    draft -> gone: requires nte\n" + PERMIT, ["DZ4007", "DZ2003"])).toEqual([
      "DZ4007 error 7:14 `gone` is not a value of the state field `status`",
      "DZ2003 error 7:29 `nte` is not a field of entity Doc",
    ]);
  });
});

describe("check-entity-lines, check-audit, check-events, check-tenancy", () => {
  test("index/unique lines need stored fields (DZ4012); unknown display_field is an error", () => {
    expect(mine("entity A:\n  x: int\n  c: computed x + 1\n  index x, y\n  unique c\n  display_field: z\n" + PERMIT, ["DZ4012", "DZ2003"])).toEqual([
      "DZ4012 error 7:12 `y` is not a field of entity A (did you mean `c`?)",
      "DZ4012 error 8:10 `c` is a computed field; `unique` needs stored fields",
      "DZ2003 error 9:18 `z` is not a field of entity A",
    ]);
    expect(entityIr("entity A:\n  x: int\n  y: int\n  index x, y\n  index x, y\n  unique y\n" + PERMIT, "A").rules!.indexes).toEqual([
      { unique: false, columns: ["x", "y"] },
      { unique: true, columns: ["y"] },
    ]);
  });

  test("audit lists name operations (DZ1011); audit on checks entity, fields and roles", () => {
    expect(
      mine("entity A:\n  x: int\n  audit: [create, write]\n" + PERMIT + "audit on A:\n  track: x, q\n  show_to: persona(agent, ghost)\naudit on B:\n  track: x\n", ["DZ1011", "DZ2002", "DZ2003", "DZ2008"]),
    ).toEqual([
      "DZ1011 error 6:19 `write` is not an operation (audit lists name create, read, update, delete, list)",
      "DZ2003 error 10:13 `q` is not a field of entity A",
      "DZ2008 warning 11:27 unknown role `ghost` (no persona declares it)",
      "DZ2002 error 12:10 unknown entity `B`",
    ]);
  });

  test("events: unknown topic/event DZ2009, underivable required field DZ4013; IR sorted with defaults", () => {
    const spec =
      "event_model:\n  topic inv:\n    retention: 2w\n  event Paid:\n    topic: inv\n    fields:\n      a_id: uuid required\n      paid_at: datetime required\n      reason: str required\n" +
      "  event Lost:\n    topic: nowhere\nentity A:\n  x: int\n  publish Paid when x changed\n  publish Gone\n" + PERMIT;
    expect(mine(spec, ["DZ2009", "DZ4013"])).toEqual([
      "DZ4013 warning 12:7 required field `reason` of Paid cannot be filled from A (published at line 17); it will be null",
      "DZ2009 error 14:12 unknown topic `nowhere`",
      "DZ2009 error 18:11 unknown event `Gone`",
    ]);
  });

  test("event field types keep their arguments as written (`decimal(10,2)`, `str(200)`, `ref Order`)", () => {
    const spec =
      "event_model:\n  topic t:\n    retention: 7\n  event E:\n    topic: t\n    fields:\n      amount: decimal( 10 , 2 ) required\n      note: str(200)\n" +
      "      order: ref A required\n      n: int\nentity A:\n  x: int\n" + PERMIT;
    expect(mine(spec, ["DZ4013"])).toEqual(["DZ4013 warning 12:14 unknown event field type `ref`"]);
    expect(analyze(input(HEAD + spec)).ir!.rules!.eventModel.events[0]!.fields).toEqual([
      { name: "amount", type: "decimal(10,2)", required: true },
      { name: "note", type: "str(200)", required: false },
      { name: "order", type: "ref A", required: true },
      { name: "n", type: "int", required: false },
    ]);
  });

  test("tenancy without a tenant root warns DZ4010; two roots are DZ4009", () => {
    expect(mine("tenancy:\n  mode: shared_schema\nentity A:\n  x: int\n" + PERMIT, ["DZ4009", "DZ4010"])).toEqual([
      "DZ4010 warning 4:1 `tenancy:` has no effect: no entity declares `archetype: tenant`",
    ]);
    expect(mine("tenancy:\n  mode: shared_schema\nentity A:\n  archetype: tenant\nentity B:\n  archetype: tenant\n", ["DZ4009"])).toEqual([
      "DZ4009 error 8:8 two tenant roots: A and B both declare `archetype: tenant`",
    ]);
  });
});
