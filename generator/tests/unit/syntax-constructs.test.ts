/** The parser on every construct family of DSL.md (issue 3): exact AST (no spans) and exact diagnostics. */
import { stableJson } from "../../cli";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";
import type { EntityDecl, Expr, InvariantDecl } from "../../syntax/ast";
import { parseFile } from "../../syntax/parse";

const src = (text: string) => makeSourceFile("t.dz", text);
const parse = (text: string) => parseFile(src(text));
const ast = (value: unknown) => JSON.parse(stableJson(value, false)) as unknown;
const render = (text: string) => {
  const file = src(text);
  return renderDiagnostics(parseFile(file).diagnostics, new Map([[file.path, file]]));
};
const id = (name: string) => ({ kind: "ident", name });
const members = (text: string) => {
  const out = parse(text);
  expect(out.diagnostics).toEqual([]);
  return (out.file.statements[0] as EntityDecl).members;
};

/** Renders an expression fully parenthesised: every node kind and operator is visible. */
function show(e: Expr): string {
  switch (e.kind) {
    case "ifExpr":
      return `(if ${e.branches.map((b) => `${show(b.cond)} ${show(b.then)}`).join(" elif ")} else ${show(e.otherwise)})`;
    case "logical":
      return `(${e.operands.map(show).join(` ${e.op} `)})`;
    case "notExpr":
      return `(not ${show(e.operand)})`;
    case "compare":
    case "arith":
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "inList":
      return `(${show(e.operand)} ${e.negated ? "not in" : "in"} ${show(e.list)})`;
    case "isNull":
      return `(${show(e.operand)} is ${e.negated ? "not " : ""}null)`;
    case "negate":
      return `(- ${show(e.operand)})`;
    case "numberLit":
      return e.text;
    case "stringLit":
      return JSON.stringify(e.value);
    case "boolLit":
      return String(e.value);
    case "nullLit":
      return "null";
    case "durationLit":
      return `<${e.duration.amount} ${e.duration.unit}>`;
    case "callExpr":
      return `${e.fn.name}(${e.args.map(show).join(", ")})`;
    case "refExpr":
      return e.segments.map((s, i) => (i === 0 ? "" : e.separators[i - 1]) + s.name).join("");
    case "listExpr":
      return `[${e.items.map(show).join(", ")}]`;
  }
}
const expr = (text: string) => show((members(`entity A:\n  invariant: ${text}\n`)[0] as InvariantDecl).expr);

describe("expressions (§4.11)", () => {
  test("precedence: if < or < and < not < comparison < + - < * / % < unary -", () => {
    expect(expr("a or b and not c = 1 + 2 * -d")).toBe("(a or (b and (not (c = (1 + (2 * (- d)))))))");
    expect(expr("if a > 1: x elif b: y % 2 else: z")).toBe("(if (a > 1) x elif b (y % 2) else z)");
    expect(expr("a - b - c / d / e")).toBe("((a - b) - ((c / d) / e))");
    expect(expr("not not a == b")).toBe("(not (not (a == b)))");
  });

  test("null tests, lists, calls, refs, durations and strings", () => {
    expect(expr("x is not null and y is None and z != null")).toBe("((x is not null) and (y is null) and (z != null))");
    expect(expr("s not in [a, 'b'] or t in []")).toBe('((s not in [a, "b"]) or (t in []))');
    expect(expr("days_since(due) > 30 and max(a, b.c, d->e) <= 3m")).toBe("((days_since(due) > 30) and (max(a, b.c, d->e) <= <3 m>))");
    expect(expr("due < today + 7d and t > now() - 30min")).toBe("((due < (today + <7 d>)) and (t > (now() - <30 min>)))");
    expect(expr('s = "a\\"b\\n" and t = \'it\\\'s\'')).toBe('((s = "a\\"b\\n") and (t = "it\'s"))');
  });

  test("exact AST of a small expression", () => {
    expect(ast((members("entity A:\n  invariant: x in [1]\n")[0] as InvariantDecl).expr)).toEqual({
      kind: "inList",
      negated: false,
      operand: { kind: "refExpr", segments: [id("x")], separators: [] },
      list: { kind: "listExpr", items: [{ kind: "numberLit", text: "1" }] },
    });
  });

  test("`a < b < c` is DZ1040 at the second operator", () => {
    expect(render("entity A:\n  invariant: a < b < c\n")).toBe(
      "error[DZ1040]: comparisons do not chain; write `a < b and b < c`\n --> t.dz:2:20\n  |\n2 |   invariant: a < b < c\n  |                    ^\n",
    );
  });

  test("any other expression syntax error is DZ1040 at the offending token", () => {
    expect(render("entity A:\n  x: computed a + * 2\n")).toBe(
      "error[DZ1040]: expression syntax error: unexpected `*`; expected an expression\n --> t.dz:2:19\n  |\n2 |   x: computed a + * 2\n  |                   ^\n",
    );
    expect(parse("entity A:\n  invariant: a = 30s\n").diagnostics.map((d) => [d.code, d.span?.start.column])).toEqual([["DZ1040", 20]]);
  });
});

describe("entity keyword lines", () => {
  test("index/unique, invariant with message and code, audit, publish, archetype, extends", () => {
    expect(
      ast(
        members(
          "entity A:\n  index a, b\n  unique c\n  invariant: x\n    message: \"m\"\n    code: c1\n  audit: [create, update]\n  audit: all\n" +
            "  publish E when status changed\n  publish F\n  publish G when deleted\n  archetype: tenant\n  extends: X, Y\n",
        ),
      ),
    ).toEqual([
      { kind: "indexLine", keyword: "index", fields: [id("a"), id("b")] },
      { kind: "indexLine", keyword: "unique", fields: [id("c")] },
      { kind: "invariant", expr: { kind: "refExpr", segments: [id("x")], separators: [] }, message: { kind: "stringLit", value: "m" }, code: id("c1") },
      { kind: "entityAudit", value: { kind: "auditList", operations: [id("create"), id("update")] } },
      { kind: "entityAudit", value: { kind: "auditWord", word: "all" } },
      { kind: "publish", event: id("E"), when: { kind: "fieldChanged", field: id("status") } },
      { kind: "publish", event: id("F"), when: null },
      { kind: "publish", event: id("G"), when: { kind: "lifecycle", event: "deleted" } },
      { kind: "archetypeLine", name: id("tenant") },
      { kind: "extendsLine", names: [id("X"), id("Y")] },
    ]);
  });

  test("transitions: `*`, colon-free, requires, role(a) or role(b), auto after, nested guard and constraints", () => {
    expect(
      ast(
        members(
          "entity A:\n  transitions:\n    a -> b: role(x) or role(y, z) requires f\n    b -> c\n    * -> d: auto after 7 days or manual\n" +
            "      guard: f > 1\n        message: \"no\"\n      requires g manual\n",
        ),
      ),
    ).toEqual([
      {
        kind: "transitions",
        transitions: [
          {
            kind: "transition", from: id("a"), to: id("b"), guards: [],
            constraints: [
              { kind: "roleConstraint", roles: [id("x")] },
              { kind: "connective" },
              { kind: "roleConstraint", roles: [id("y"), id("z")] },
              { kind: "requires", field: id("f") },
            ],
          },
          { kind: "transition", from: id("b"), to: id("c"), guards: [], constraints: [] },
          {
            kind: "transition", from: { kind: "anyState" }, to: id("d"),
            constraints: [
              { kind: "autoAfter", amount: 7, unit: "days", orManual: true },
              { kind: "requires", field: id("g") },
              { kind: "manual" },
            ],
            guards: [
              {
                kind: "guard",
                expr: { kind: "compare", op: ">", left: { kind: "refExpr", segments: [id("f")], separators: [] }, right: { kind: "numberLit", text: "1" } },
                message: { kind: "stringLit", value: "no" },
              },
            ],
          },
        ],
      },
    ]);
  });

  test("auth_identity keeps its keys; LATER keywords are block trees; SKIP keywords stay raw", () => {
    expect(ast(members("entity A:\n  auth_identity:\n    link_via: email\n  seed: x 30s \"q\\\"\" {\n    - a\n  fitness:\n    {{ x }}\n"))).toEqual([
      {
        kind: "authIdentity",
        entries: [{ kind: "keyValue", key: id("link_via"), value: "email", children: [] }],
      },
      {
        kind: "laterEntityBlock",
        keyword: id("seed"),
        tokens: [
          { kind: "token", type: "symbol", text: ":" },
          { kind: "token", type: "ident", text: "x" },
          { kind: "token", type: "number", text: "30" },
          { kind: "token", type: "ident", text: "s" },
          { kind: "token", type: "string", text: '"q\\""', value: 'q"' },
          { kind: "token", type: "symbol", text: "{" },
        ],
        children: [{ kind: "blockLine", tokens: [{ kind: "token", type: "symbol", text: "-" }, { kind: "token", type: "ident", text: "a" }], children: [] }],
      },
      { kind: "entityBlock", keyword: id("fitness"), header: ":", children: [{ kind: "rawLine", text: "{{ x }}", children: [] }] },
    ]);
  });

  test("field types: computed, has_many/has_one/embeds, latest_one, descendants_of; defaults today ± d and expressions", () => {
    const fields = members(
      "entity A:\n  c: computed days_since(d)\n  h: has_many B via J cascade readonly\n  o: has_one B restrict\n  e: embeds B\n" +
        "  l: latest_one B via p\n  t: descendants_of self via parent\n  d: date = today + 7d\n  x: int = a * 2 required\n",
    );
    expect(ast(fields.map((f) => (f.kind === "field" ? { type: f.type, modifiers: f.modifiers } : null)))).toEqual([
      {
        modifiers: [],
        type: { kind: "computedType", text: "days_since(d)", expr: { kind: "callExpr", fn: id("days_since"), args: [{ kind: "refExpr", segments: [id("d")], separators: [] }] } },
      },
      { modifiers: [], type: { kind: "collectionType", relation: id("has_many"), target: id("B"), via: id("J"), onDelete: id("cascade"), readonly: true } },
      { modifiers: [], type: { kind: "collectionType", relation: id("has_one"), target: id("B"), via: null, onDelete: id("restrict"), readonly: false } },
      { modifiers: [], type: { kind: "collectionType", relation: id("embeds"), target: id("B"), via: null, onDelete: null, readonly: false } },
      { modifiers: [], type: { kind: "latestOneType", relation: id("latest_one"), target: id("B"), via: id("p") } },
      { modifiers: [], type: { kind: "hierarchyType", relation: id("descendants_of"), target: id("self"), via: [id("parent")] } },
      {
        type: { kind: "namedType", name: id("date"), args: null },
        modifiers: [{ kind: "default", value: { kind: "relativeDate", base: "today", sign: "+", duration: { amount: 7, unit: "d", text: "7d" } } }],
      },
      {
        type: { kind: "namedType", name: id("int"), args: null },
        modifiers: [
          {
            kind: "default",
            value: {
              kind: "expression", text: "a * 2",
              expr: { kind: "arith", op: "*", left: { kind: "refExpr", segments: [id("a")], separators: [] }, right: { kind: "numberLit", text: "2" } },
            },
          },
          { kind: "flag", name: id("required"), optionalMark: false, args: null },
        ],
      },
    ]);
  });

  test("a field named like an entity keyword is an error with the note (pitfall 32)", () => {
    expect(render("entity A:\n  index: int\n")).toBe(
      "error[DZ1004]: unexpected `:`; expected identifier\n --> t.dz:2:8\n  |\n2 |   index: int\n  |        ^\n" +
        "  = note: `index` starts an entity keyword line; field names cannot be entity keywords\n",
    );
    expect(parse("entity A:\n  publish: bool\n").diagnostics.map((d) => [d.code, d.notes.length])).toEqual([["DZ1004", 1]]);
  });

  test("a bad audit value is DZ1011; a repeated invariant `message:` is DZ1004", () => {
    expect(render("entity A:\n  audit: sometimes\n")).toBe(
      "error[DZ1011]: `audit:` takes `all`, `true`, `false` or a list of operations, not `sometimes`\n --> t.dz:2:10\n  |\n2 |   audit: sometimes\n  |          ^^^^^^^^^\n" +
        "  = note: `audit` starts an entity keyword line; field names cannot be entity keywords\n",
    );
    expect(parse('entity A:\n  invariant: x\n    message: "a"\n    message: "b"\n').diagnostics.map((d) => [d.code, d.message, d.span?.start.line])).toEqual([
      ["DZ1004", "`message:` is given twice", 4],
    ]);
  });
});

describe("top-level constructs", () => {
  test("tenancy, event_model, audit on", () => {
    const out = parse(
      "tenancy:\n  mode: shared_schema\n  partition_key: org_id\n  exclude: [A, B]\n  per_tenant_config:\n    x: int\n" +
        "event_model:\n  topic t:\n    retention: 3m\n    partition_key: k\n  event E:\n    topic: t\n    version: \"2\"\n    payload: A\n    fields:\n      a_id: uuid required\n" +
        "audit on A:\n  track: x, y\n  show_to: persona(m, n)\n  retention: 90\n",
    );
    expect(out.diagnostics).toEqual([]);
    expect(ast(out.file.statements)).toEqual([
      {
        kind: "tenancy", keyword: id("tenancy"),
        entries: [
          { kind: "tenancyMode", key: id("mode"), value: id("shared_schema") },
          { kind: "tenancyPartitionKey", key: id("partition_key"), value: id("org_id") },
          { kind: "tenancyExcluded", key: id("exclude"), entities: [id("A"), id("B")] },
          {
            kind: "blockLine",
            tokens: [{ kind: "token", type: "ident", text: "per_tenant_config" }, { kind: "token", type: "symbol", text: ":" }],
            children: [
              { kind: "blockLine", tokens: [{ kind: "token", type: "ident", text: "x" }, { kind: "token", type: "symbol", text: ":" }, { kind: "token", type: "ident", text: "int" }], children: [] },
            ],
          },
        ],
      },
      {
        kind: "eventModel", keyword: id("event_model"),
        items: [
          {
            kind: "topic", name: id("t"),
            entries: [
              { kind: "topicRetention", key: id("retention"), value: { kind: "durationLit", duration: { amount: 3, unit: "m", text: "3m" } } },
              { kind: "topicPartitionKey", key: id("partition_key"), value: id("k") },
            ],
          },
          {
            kind: "event", name: id("E"),
            entries: [
              { kind: "eventTopic", key: id("topic"), value: id("t") },
              { kind: "eventVersion", key: id("version"), value: { kind: "stringLit", value: "2" } },
              { kind: "eventPayload", key: id("payload"), value: id("A") },
              { kind: "eventFields", key: id("fields"), fields: [{ kind: "eventField", name: id("a_id"), type: id("uuid"), args: null, modifiers: [id("required")] }] },
            ],
          },
        ],
      },
      {
        kind: "auditOn", keyword: id("audit"), entity: id("A"),
        entries: [
          { kind: "auditTrack", key: id("track"), fields: [id("x"), id("y")] },
          { kind: "auditShowTo", key: id("show_to"), roles: [id("m"), id("n")] },
          { kind: "auditRetention", key: id("retention"), value: { kind: "numberLit", text: "90" } },
        ],
      },
    ]);
  });

  test("archetype, enum, grant_schema are typed; subscribe/projection/process are block trees", () => {
    const out = parse(
      'archetype Stamped:\n  at: datetime auto_add\nenum Sev "S":\n  high\n  low\n' +
        'grant_schema g "G":\n  scope: Dept\n  relation acting "A":\n    granted_by: role(lead)\n    approval: required\n    max_duration: 90d\n' +
        "subscribe t as grp:\n  on E:\n    call x\nprocess p:\n  timeout: 30x\n",
    );
    expect(out.diagnostics).toEqual([]);
    expect(ast(out.file.statements.map((s) => [s.kind, "name" in s ? s.name : null]))).toEqual([
      ["archetype", id("Stamped")],
      ["enum", id("Sev")],
      ["grantSchema", id("g")],
      ["laterBlock", "t"],
      ["laterBlock", "p"],
    ]);
    expect(ast(out.file.statements[2])).toEqual({
      kind: "grantSchema", keyword: id("grant_schema"), name: id("g"), title: "G",
      entries: [
        { kind: "grantScope", key: id("scope"), entity: id("Dept") },
        {
          kind: "grantRelation", name: id("acting"), title: "A",
          entries: [
            { kind: "grantRoles", key: id("granted_by"), roles: [id("lead")] },
            { kind: "grantChoice", key: id("approval"), value: id("required") },
            { kind: "grantMaxDuration", key: id("max_duration"), value: { amount: 90, unit: "d", text: "90d" } },
          ],
        },
      ],
    });
    // `30x` in a block tree is NUMBER + IDENT (DSL.md §3.3).
    const process = ast(out.file.statements[4]) as { children: { tokens: { text: string; type: string }[] }[] };
    expect(process.children[0]!.tokens.map((t) => `${t.type}:${t.text}`)).toEqual(["ident:timeout", "symbol::", "number:30", "ident:x"]);
  });
});

describe("unsupported-construct warnings", () => {
  const warnings = (text: string) =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("../../syntax/report-unsupported-constructs") as typeof import("../../syntax/report-unsupported-constructs"))
      .reportUnsupportedConstructs([parse(text).file])
      .map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`);

  test("LATER parts of generated constructs (`auto after`), LATER keywords and unknown persona keys warn; invariants and transitions are generated, so they do not", () => {
    expect(
      warnings(
        "tenancy:\n  mode: shared_schema\n  provisioning:\n    x: y\nentity A:\n  archetype: profile\n  transitions:\n    a -> b: auto after 2 days\n" +
          "  invariant: x\n  temporal:\n    k: v\npersona p:\n  backed_by: A\n  capabilities: x\n  description: \"d\"\n",
      ),
    ).toEqual([
      "DZ1902 3:3 `tenancy provisioning` is not implemented in this version and is ignored",
      "DZ1902 6:14 `archetype: profile` is not implemented in this version and is ignored",
      "DZ1902 8:13 `auto after` is not implemented in this version and is ignored",
      "DZ1902 10:3 `temporal` is not implemented in this version and is ignored",
      "DZ1902 13:3 `persona backed_by` is not implemented in this version and is ignored",
      "DZ1901 14:3 `persona capabilities` is skipped (not part of the generated back end)",
    ]);
  });
});
