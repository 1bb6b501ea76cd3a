/**
 * check-access on FK paths (DSL.md §6.6) and `via` junctions (§6.7), entered with inline specs:
 * the exact IR each leaf resolves to, and exact diagnostics (code, message, span, notes, help).
 */
import { analyze } from "../../compile";
import type { Diagnostic } from "../../diagnostics/diagnostic";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";
import type { Predicate } from "../../ir/ir";
import type { ProjectInput } from "../../read-project";

const input = (text: string, file = "t.dz"): ProjectInput => ({
  files: [makeSourceFile(file, text)],
  rootModule: null,
  fallbackName: "t",
  specName: file,
});

/** 27 lines; `spec` puts the scope rule `list: <rule>` on line 31 on LineItem, on line 18 on Project. */
const MODEL = [
  'app t "T"',
  'persona member "M":',
  '  description: "m"',
  "entity Organization:",
  "  name: str(50) required",
  "entity User:",
  "  org: ref Organization",
  "  project: ref Project",
  "entity Person:",
  "  name: text",
  "entity Project:",
  "  org: ref Organization required",
  "  lead: ref Person",
  "  invoices: has_many Invoice via Membership", // via: Invoice has two refs to Project (DZ2014 without it)
  "entity Invoice:",
  "  number: str(40) required",
  "  project: ref Project required",
  "  sensitive: bool",
  "  proj_id: ref Project",
  "entity Membership:",
  "  user: ref User required",
  "  project: ref Project required",
  "  revoked_at: datetime",
  "  person: ref Person",
  "entity LineItem:",
  "  invoice: ref Invoice required",
  "  note: text",
];

function spec(rule: string, on = "LineItem"): string {
  const lines = [...MODEL];
  const at = lines.indexOf(`entity ${on}:`);
  const end = lines.findIndex((l, i) => i > at && l.startsWith("entity "));
  const block = ["  permit:", "    list: role(member)", "  scope:", `    list: ${rule}`, "      as: member"];
  lines.splice(end === -1 ? lines.length : end, 0, ...block);
  return lines.join("\n") + "\n";
}

/** Predicate of the one scope rule. */
function predicate(rule: string, on = "LineItem"): Predicate {
  const result = analyze(input(spec(rule, on)));
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.ir!.entities.find((e) => e.name === on)!.access.scope![0]!.predicate;
}

/** Name and access diagnostics (DZ2002, DZ2003, DZ3xxx but the DZ3010 lint) with their spans as `line:col-line:col`. */
function diagnostics(rule: string, on = "LineItem", principal?: string): object[] {
  const result = analyze(input(spec(rule, on)), principal ? { principal } : {});
  return result.diagnostics
    .filter((d) => d.code === "DZ2002" || d.code === "DZ2003" || (d.code.startsWith("DZ3") && d.code !== "DZ3010"))
    .map((d: Diagnostic) => ({
      code: d.code,
      message: d.message,
      at: `${d.span!.start.line}:${d.span!.start.column}-${d.span!.end.line}:${d.span!.end.column}`,
      ...(d.notes.length > 0 ? { notes: d.notes.map((n) => n.message) } : {}),
      ...(d.help ? { help: d.help } : {}),
    }));
}

describe("FK paths (DSL.md §6.6)", () => {
  test("a 2-hop path compared with a principal attribute", () => {
    expect(predicate("invoice.project.org = current_user.org")).toEqual({
      kind: "path",
      hops: [
        { column: "invoice", table: "invoice" },
        { column: "project", table: "project" },
      ],
      column: "org",
      sqlType: "uuid",
      op: "=",
      value: { kind: "userAttr", attr: "org" },
    });
    expect(diagnostics("invoice.project.org = current_user.org")).toEqual([]);
  });

  test("literals, `!=`, `= null` and a bare bool terminal", () => {
    expect(predicate('invoice.number != "A-1"')).toEqual({
      kind: "path",
      hops: [{ column: "invoice", table: "invoice" }],
      column: "number",
      sqlType: "text",
      op: "!=",
      value: { kind: "literal", value: "A-1" },
    });
    expect(predicate("invoice.project.lead = null")).toMatchObject({ column: "lead", op: "=", value: { kind: "literal", value: null } });
    expect(predicate("invoice.sensitive")).toMatchObject({ column: "sensitive", sqlType: "boolean", op: "=", value: { kind: "literal", value: true } });
    expect(predicate("invoice.sensitive != true and note = null")).toEqual({
      kind: "and",
      children: [
        {
          kind: "path",
          hops: [{ column: "invoice", table: "invoice" }],
          column: "sensitive",
          sqlType: "boolean",
          op: "!=",
          value: { kind: "literal", value: true },
        },
        { kind: "column", column: "note", op: "=", value: null, sqlType: "text" },
      ],
    });
  });

  test("`x.id` is normalised to the FK column itself", () => {
    expect(predicate("invoice.id = null")).toEqual({ kind: "column", column: "invoice", op: "=", value: null, sqlType: "uuid" });
    expect(predicate("invoice.project.id = current_user.project")).toEqual({
      kind: "path",
      hops: [{ column: "invoice", table: "invoice" }],
      column: "project",
      sqlType: "uuid",
      op: "=",
      value: { kind: "userAttr", attr: "project" },
    });
  });

  test("a missing `x` resolves to the ref `x_id` with DZ3018", () => {
    expect(predicate("invoice.proj.org = current_user.org")).toMatchObject({
      hops: [
        { column: "invoice", table: "invoice" },
        { column: "proj_id", table: "project" },
      ],
      column: "org",
    });
    expect(diagnostics("invoice.proj.org = current_user.org")).toEqual([
      {
        code: "DZ3018",
        message: "`proj` is not a field of entity Invoice; resolved to the ref `proj_id`",
        at: "31:19-31:23",
        help: "write `proj_id`",
      },
    ]);
  });

  test("more than 4 hops is DZ3009 over the whole path", () => {
    expect(diagnostics("invoice.project.org.name.x.y = 1")).toEqual([
      {
        code: "DZ3009",
        message: "FK path `invoice.project.org.name.x.y` has 5 hops; at most 4 are allowed",
        at: "31:11-31:39",
        help: "shorten the path, e.g. with a `via` junction or a denormalised ref",
      },
    ]);
    // Exactly 4 hops is fine (the last one fails for another reason).
    expect(diagnostics("invoice.project.org.name.x = 1").map((d) => (d as Diagnostic).code)).toEqual(["DZ3002"]);
  });

  test("DZ3002 names the path, the failing segment and the entity where it fails", () => {
    expect(diagnostics("invoice.project.orgg = current_user.org")).toEqual([
      {
        code: "DZ3002",
        message: "FK path `invoice.project.orgg` does not resolve",
        at: "31:11-31:31",
        notes: ["`orgg` is not a field of entity Project (walked LineItem.invoice → Invoice.project → Project)"],
        help: "did you mean `org`?",
      },
    ]);
    expect(diagnostics("invoic.project.org = current_user.org")).toEqual([
      {
        code: "DZ3002",
        message: "FK path `invoic.project.org` does not resolve",
        at: "31:11-31:29",
        notes: ["`invoic` is not a field of entity LineItem"],
        help: "did you mean `invoice`?",
      },
    ]);
    expect(diagnostics('invoice.number.x = "a"')).toEqual([
      {
        code: "DZ3002",
        message: "FK path `invoice.number.x` does not resolve",
        at: "31:11-31:27",
        notes: ["`number` is a str field of entity Invoice, not a `ref`; FK paths follow only `ref`/`belongs_to` fields (walked LineItem.invoice → Invoice)"],
      },
    ]);
    expect(diagnostics('invoice.project.invoices.number = "a"')).toEqual([
      {
        code: "DZ3002",
        message: "FK path `invoice.project.invoices.number` does not resolve",
        at: "31:11-31:42",
        notes: [
          "`invoices` is a has_many relation of entity Project; FK paths follow only `ref`/`belongs_to` fields (use `via`) (walked LineItem.invoice → Invoice.project → Project)",
        ],
      },
    ]);
    expect(diagnostics("invoice.project.invoices = null")).toEqual([
      {
        code: "DZ3002",
        message: "FK path `invoice.project.invoices` does not resolve",
        at: "31:11-31:35",
        notes: ["`invoices` is a has_many relation of entity Project, which a scope predicate cannot compare (walked LineItem.invoice → Invoice.project → Project)"],
      },
    ]);
  });

  test("the terminal field is type-checked like a plain field", () => {
    expect(diagnostics("invoice.sensitive = current_user")).toEqual([
      { code: "DZ3007", message: "cannot compare bool field `sensitive` with `current_user` (a uuid)", at: "31:31-31:43" },
    ]);
  });

  test("DZ3002 renders exactly like the DSL.md §12.1 example", () => {
    // Put the rule on line 231 of dsl/entities.dsl, as in the example.
    const text = spec("invoice.project.orgg = current_user.org");
    const padded = "# filler\n".repeat(231 - 31) + text;
    const result = analyze(input(padded, "dsl/entities.dsl"));
    const errors = result.diagnostics.filter((d) => d.code === "DZ3002");
    // The arrow line is indented by the gutter width (rustc style, as render.ts does for every code).
    expect(renderDiagnostics(errors, result.sources)).toBe(
      [
        "error[DZ3002]: FK path `invoice.project.orgg` does not resolve",
        "   --> dsl/entities.dsl:231:11",
        "    |",
        "231 |     list: invoice.project.orgg = current_user.org",
        "    |           ^^^^^^^^^^^^^^^^^^^^",
        "    = note: `orgg` is not a field of entity Project (walked LineItem.invoice → Invoice.project → Project)",
        "    = help: did you mean `org`?",
        "",
      ].join("\n"),
    );
  });

  test("current_user against a ref to a non-principal entity is DZ3014", () => {
    expect(diagnostics("invoice.project.lead = current_user")).toEqual([
      {
        code: "DZ3014",
        message: "`lead` refers to Person, but `current_user` is a User",
        at: "31:34-31:46",
        notes: ["the rule holds only when the two ids coincide"],
        help: "generate with --principal=Person if Person rows are the callers",
      },
    ]);
    expect(diagnostics("invoice.project.lead = current_user", "LineItem", "Person")).toEqual([]);
  });
});

describe("via junctions (DSL.md §6.7)", () => {
  test("entity, principal and null bindings", () => {
    expect(predicate("via Membership(user = current_user, project = id, revoked_at = null)", "Project")).toEqual({
      kind: "exists",
      junction: { entity: "Membership", table: "membership" },
      entityBindings: [{ path: { hops: [], column: "project", sqlType: "uuid" }, column: "id" }],
      principalBindings: [{ path: { hops: [], column: "user", sqlType: "uuid" }, op: "=", attr: "id" }],
      nullBindings: [{ path: { hops: [], column: "revoked_at", sqlType: "timestamptz" }, op: "=" }],
      negated: false,
    });
  });

  test("not via, dotted junction paths, `!=` principal bindings and a field target", () => {
    expect(predicate("not via Membership(user.org = current_user.org, project.id = project, person != current_user, revoked_at != None)", "Invoice")).toEqual({
      kind: "exists",
      junction: { entity: "Membership", table: "membership" },
      entityBindings: [{ path: { hops: [], column: "project", sqlType: "uuid" }, column: "project" }],
      principalBindings: [
        { path: { hops: [{ column: "user", table: "user" }], column: "org", sqlType: "uuid" }, op: "=", attr: "org" },
        { path: { hops: [], column: "person", sqlType: "uuid" }, op: "!=", attr: "id" },
      ],
      nullBindings: [{ path: { hops: [], column: "revoked_at", sqlType: "timestamptz" }, op: "!=" }],
      negated: true,
    });
  });

  test("the principal attributes of bindings are loaded like any other", () => {
    const ir = analyze(input(spec("via Membership(user.org = current_user.org, project = id)", "Project"))).ir!;
    expect(ir.principal.attributes).toEqual([{ name: "org", column: "org", sqlType: "uuid" }]);
  });

  test("via combined with and/or is DZ3004 over the whole filter", () => {
    const at = (rule: string) =>
      analyze(input(spec(rule, "Project"))).diagnostics.map((d) => `${d.code} ${d.span!.start.line}:${d.span!.start.column}-${d.span!.end.column} ${d.message}`);
    const message =
      "`via` must be the whole scope filter: it cannot be combined with `and`/`or` (write one rule per alternative; rules for one operation and role are ORed)";
    expect(at("via Membership(user = current_user, project = id) and org = current_user.org")).toEqual([`DZ3004 18:11-87 ${message}`]);
    expect(at("org = current_user.org or not via Membership(user = current_user, project = id)")).toEqual([`DZ3004 18:11-90 ${message}`]);
  });

  test("bindings need one entity and one principal binding (DZ3005)", () => {
    expect(diagnostics("via Membership(user = current_user, revoked_at = null)", "Project")).toEqual([
      {
        code: "DZ3005",
        message: "`via Membership(…)` has no binding to the scoped row",
        at: "18:11-18:65",
        help: "add a binding such as `<field of Membership> = id`",
      },
    ]);
    expect(diagnostics("not via Membership(project = id)", "Project")).toEqual([
      {
        code: "DZ3005",
        message: "`not via Membership(…)` has no binding to the caller",
        at: "18:11-18:43",
        help: "add a binding such as `<field of Membership> = current_user`",
      },
    ]);
  });

  test("entity bindings use `=`; targets are current_user, null, id or a field (DZ3005)", () => {
    expect(diagnostics("via Membership(user = current_user, project != id)", "Project")).toEqual([
      {
        code: "DZ3005",
        message: "a binding to the scoped row must use `=`, not `!=`",
        at: "18:47-18:60",
        help: "`!=` is allowed only for bindings to `current_user` and `null`",
      },
    ]);
    expect(diagnostics('via Membership(user = current_user, project = id, revoked_at = "x")', "Project")).toEqual([
      {
        code: "DZ3005",
        message: "a `via` binding compares with `current_user`, `current_user.<attr>`, `null`, `id` or a field of Project",
        at: "18:74-18:77",
      },
    ]);
    expect(diagnostics("via Membership(user = current_user, project = idd)", "Project")).toEqual([
      {
        code: "DZ3005",
        message:
          "`idd` is not a field of entity Project; a `via` binding compares with `current_user`, `current_user.<attr>`, `null`, `id` or a field of Project",
        at: "18:57-18:60",
        help: "did you mean `id`?",
      },
    ]);
  });

  test("binding paths resolve like FK paths; type and identity mismatches are DZ3007", () => {
    expect(diagnostics("via Membership(usr = current_user, project = id)", "Project")).toEqual([
      { code: "DZ2003", message: "`usr` is not a field of entity Membership", at: "18:26-18:29", help: "did you mean `user`?" },
    ]);
    expect(diagnostics("via Membership(user.orgg = current_user.org, project = id)", "Project")).toEqual([
      {
        code: "DZ3002",
        message: "FK path `user.orgg` does not resolve",
        at: "18:26-18:35",
        notes: ["`orgg` is not a field of entity User (walked Membership.user → User)"],
        help: "did you mean `org`?",
      },
    ]);
    expect(diagnostics("via Membership(user = current_user, project = org)", "Project")).toEqual([
      { code: "DZ3007", message: "`project` of Membership identifies Project, but `org` of Project identifies Organization", at: "18:57-18:60" },
    ]);
    expect(diagnostics("via Membership(user = current_user, revoked_at = id)", "Project")).toEqual([
      { code: "DZ3007", message: "cannot compare datetime field `revoked_at` of Membership with uuid field `id` of Project", at: "18:60-18:62" },
    ]);
  });

  test("an unknown junction is DZ2002; a non-principal principal binding is DZ3014", () => {
    expect(diagnostics("via Membershp(user = current_user, project = id)", "Project")).toEqual([
      { code: "DZ2002", message: "unknown entity `Membershp`", at: "18:15-18:24", help: "did you mean `Membership`?" },
    ]);
    expect(diagnostics("via Membership(person = current_user, project = id)", "Project")).toEqual([
      {
        code: "DZ3014",
        message: "`person` refers to Person, but `current_user` is a User",
        at: "18:35-18:47",
        notes: ["the rule holds only when the two ids coincide"],
        help: "generate with --principal=Person if Person rows are the callers",
      },
    ]);
  });
});

describe("DZ3014 without a principal entity (hr_records, pitfall 31)", () => {
  test("a ref compared with current_user warns when current_user is the generated app_user", () => {
    const text = 'app t "T"\nentity Person:\n  name: text\nentity Note:\n  person: ref Person\n  permit:\n    list: authenticated\n  scope:\n    list: person = current_user\n      as: *\n';
    const result = analyze(input(text));
    expect(result.diagnostics.filter((d) => d.code === "DZ3014").map((d) => [d.message, d.span!.start.line, d.span!.start.column])).toEqual([
      ["`person` refers to Person, but `current_user` is a generated `app_user`", 9, 20],
    ]);
  });
});
