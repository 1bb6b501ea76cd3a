/**
 * The SQL of FK-path and `via` leaves (DSL.md §6.10) from hand-built IR: the exact policy and
 * app-layer forms (the same compiler, only the row source differs), the exact helper functions,
 * and hostile identifiers and literals (quotes, backslashes, unicode) quoted safely.
 */
import type { EntityIR, ExistsCheck, FieldIR, PathCheck, Predicate } from "../../ir/ir";
import { emitScopeHelpers } from "../../emit/sql/emit-scope-helpers";
import { compilePredicate } from "../../emit/sql/predicate";
import { pathHelper, viaHelper } from "../../emit/sql/scope-helper";
import { ORG_PATH } from "../support/predicates";

// Raw nodes (ir/simplify.ts would cancel the double negations these tests need).
const not = (child: Predicate): Predicate => ({ kind: "not", child });
const and = (children: Predicate[]): Predicate => ({ kind: "and", children });
const OWNER_TEST: Predicate = { kind: "userAttr", column: "owner", op: "=", attr: "id" };

const HOSTILE = `O'Brien \\ "x" ü`;
const POLICY = { kind: "policy" } as const;
const APP = { kind: "table", alias: "line_item" } as const;
const both = (p: Predicate) => ({ policy: compilePredicate(p, POLICY), app: compilePredicate(p, APP) });

const MEMBERSHIP: ExistsCheck = {
  kind: "exists",
  junction: { entity: "Membership", table: "membership" },
  entityBindings: [{ path: { hops: [], column: "project", sqlType: "uuid" }, column: "id" }],
  principalBindings: [{ path: { hops: [], column: "user", sqlType: "uuid" }, op: "=", attr: "id" }],
  nullBindings: [{ path: { hops: [], column: "revoked_at", sqlType: "timestamptz" }, op: "=" }],
  negated: false,
};

describe("PathCheck", () => {
  test("2 hops against a principal attribute: a bare helper call (FALSE when unset, and indexable), guarded under a not", () => {
    expect(both(ORG_PATH)).toEqual({
      policy: '"invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org())))',
      app: '"line_item"."invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org())))',
    });
    // Under a not the unset value must give NULL, or NOT would turn FALSE into TRUE.
    expect(both(not(ORG_PATH))).toEqual({
      policy: 'NOT (CASE WHEN (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE "invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org()))) END)',
      app: 'NOT (CASE WHEN (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE "line_item"."invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org()))) END)',
    });
    // Two nots: positive again, bare.
    expect(both(not(and([OWNER_TEST, not(ORG_PATH)]))).policy).toBe(
      'NOT (("owner" = (SELECT dazzle_user_id()) AND NOT ("invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org()))))))',
    );
    expect(both(and([OWNER_TEST, not(ORG_PATH)])).policy).toBe(
      '("owner" = (SELECT dazzle_user_id()) AND NOT (CASE WHEN (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE "invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org()))) END))',
    );
    expect(both(not(not(ORG_PATH))).policy).toBe('NOT (NOT ("invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org())))))');
    expect(pathHelper(ORG_PATH)).toEqual({
      name: "dz_path_8d2e57e7",
      params: ["uuid"],
      returns: "SETOF uuid",
      body: 'SELECT t1."id" FROM "invoice" t1 WHERE t1."project" IN (SELECT t2."id" FROM "project" t2 WHERE t2."org" = $1)',
      comment: "FK path invoice.project.org = $1: ids of invoice rows",
      tables: ["invoice", "project"],
      signature: "(uuid)",
    });
  });

  test("the name hashes path and operator, not the value", () => {
    const literal: PathCheck = { ...ORG_PATH, value: { kind: "literal", value: "00000000-0000-4000-8000-000000000001" } };
    expect(pathHelper(literal).name).toBe("dz_path_8d2e57e7");
    expect(both(literal).policy).toBe(`"invoice" IN (SELECT * FROM dz_path_8d2e57e7('00000000-0000-4000-8000-000000000001'))`);
    expect(pathHelper({ ...ORG_PATH, op: "!=" }).name).toBe("dz_path_3581ccc1");
    expect(pathHelper({ ...ORG_PATH, column: "name", sqlType: "text" }).name).not.toBe("dz_path_8d2e57e7");
  });

  test("`= null` / `!= null`: IS [NOT] NULL inside a helper without parameters", () => {
    const isNull: PathCheck = { ...ORG_PATH, hops: [ORG_PATH.hops[0]!], column: "paid_at", sqlType: "timestamptz", value: { kind: "literal", value: null } };
    expect(both(isNull)).toEqual({
      policy: '"invoice" IN (SELECT * FROM dz_path_a30ce631())',
      app: '"line_item"."invoice" IN (SELECT * FROM dz_path_a30ce631())',
    });
    expect(pathHelper(isNull).body).toBe('SELECT t1."id" FROM "invoice" t1 WHERE t1."paid_at" IS NULL');
    expect(pathHelper({ ...isNull, op: "!=" }).body).toBe('SELECT t1."id" FROM "invoice" t1 WHERE t1."paid_at" IS NOT NULL');
  });

  test("hostile identifiers and a hostile literal", () => {
    const hostile: PathCheck = {
      kind: "path",
      hops: [{ column: `gr"oup\\`, table: `sch"ool ü` }],
      column: `na"me`,
      sqlType: "text",
      op: "!=",
      value: { kind: "literal", value: HOSTILE },
    };
    expect(compilePredicate(hostile, POLICY)).toBe(`"gr""oup\\" IN (SELECT * FROM dz_path_6ce8ed88('O''Brien \\ "x" ü'))`);
    expect(compilePredicate(hostile, { kind: "table", alias: `t"x` })).toBe(
      `"t""x"."gr""oup\\" IN (SELECT * FROM dz_path_6ce8ed88('O''Brien \\ "x" ü'))`,
    );
    expect(pathHelper(hostile).body).toBe(`SELECT t1."id" FROM "sch""ool ü" t1 WHERE t1."na""me" <> $1`);
  });
});

describe("ExistsCheck", () => {
  test("via: entity, principal and null bindings", () => {
    expect(both({ ...MEMBERSHIP })).toEqual({
      policy: '"id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id())))',
      app: '"line_item"."id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id())))',
    });
    // `not via` is guarded; `not (not via …)` is a positive test again.
    expect(both({ ...MEMBERSHIP, negated: true }).policy).toBe(
      'CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL ELSE NOT ("id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id())))) END',
    );
    expect(both(not({ ...MEMBERSHIP, negated: true })).policy).toBe('NOT (NOT ("id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id())))))');
    expect(both(not(MEMBERSHIP)).policy).toBe(
      'NOT (CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL ELSE "id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id()))) END)',
    );
    expect(viaHelper(MEMBERSHIP)).toEqual({
      name: "dz_via_5c68b98b",
      params: ["uuid"],
      returns: "SETOF uuid",
      body: 'SELECT j."project" FROM "membership" j WHERE j."user" = $1 AND j."revoked_at" IS NULL AND j."project" IS NOT NULL',
      comment: "via Membership(project = id, user = $1, revoked_at = null)",
      tables: ["membership"],
      signature: "(uuid)",
    });
  });

  test("not via: NOT inside the guard, so an unset principal gives NULL, not TRUE", () => {
    expect(compilePredicate({ ...MEMBERSHIP, negated: true }, POLICY)).toBe(
      'CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL ELSE NOT ("id" IN (SELECT * FROM dz_via_5c68b98b((SELECT dazzle_user_id())))) END',
    );
    // The helper does not depend on the negation.
    expect(viaHelper({ ...MEMBERSHIP, negated: true }).name).toBe("dz_via_5c68b98b");
  });

  test("several entity bindings use a row value; dotted paths join once per prefix; hostile names", () => {
    const e: ExistsCheck = {
      kind: "exists",
      junction: { entity: "Mgr", table: `mgr"link` },
      entityBindings: [
        { path: { hops: [], column: "report", sqlType: "uuid" }, column: "id" },
        { path: { hops: [{ column: "team", table: "team" }], column: `le"ad`, sqlType: "uuid" }, column: `pe"rson` },
      ],
      principalBindings: [
        { path: { hops: [], column: "manager", sqlType: "uuid" }, op: "!=", attr: "id" },
        { path: { hops: [{ column: "team", table: "team" }], column: "org", sqlType: "uuid" }, op: "=", attr: "org" },
      ],
      nullBindings: [],
      negated: true,
    };
    expect(both(e)).toEqual({
      policy:
        'CASE WHEN (SELECT dazzle_user_id()) IS NULL OR (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE NOT (("id", "pe""rson") IN (SELECT * FROM dz_via_d9f83a47((SELECT dazzle_user_id()), (SELECT dazzle_user_attr_org())))) END',
      app: 'CASE WHEN (SELECT dazzle_user_id()) IS NULL OR (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE NOT (("line_item"."id", "line_item"."pe""rson") IN (SELECT * FROM dz_via_d9f83a47((SELECT dazzle_user_id()), (SELECT dazzle_user_attr_org())))) END',
    });
    expect(viaHelper(e)).toEqual({
      name: "dz_via_d9f83a47",
      params: ["uuid", "uuid"],
      returns: 'TABLE ("v1" uuid, "v2" uuid)',
      body:
        'SELECT j."report", j1."le""ad" FROM "mgr""link" j JOIN "team" j1 ON j1."id" = j."team" WHERE j."manager" <> $1 AND j1."org" = $2 AND j."report" IS NOT NULL AND j1."le""ad" IS NOT NULL',
      comment: 'via Mgr(report = id, team.le"ad = pe"rson, manager != $1, team.org = $2)',
      tables: [`mgr"link`, "team"],
      signature: "(uuid, uuid)",
    });
  });
});

describe("composition", () => {
  test("not ( path ) keeps the guard inside, so NOT NULL stays NULL", () => {
    expect(compilePredicate({ kind: "not", child: ORG_PATH }, POLICY)).toBe(
      'NOT (CASE WHEN (SELECT dazzle_user_attr_org()) IS NULL THEN NULL ELSE "invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org()))) END)',
    );
  });
});

describe("emitScopeHelpers", () => {
  const field = (column: string, type: FieldIR["type"], extra: Partial<FieldIR> = {}): FieldIR => ({
    name: column,
    column,
    type,
    required: false,
    unique: false,
    default: null,
    serverManaged: false,
    autoUpdate: false,
    indexed: type.kind === "ref",
    ...extra,
  });
  const entity = (name: string, table: string, fields: FieldIR[], scope: Predicate[]): EntityIR =>
    ({
      name,
      title: name,
      table,
      route: table,
      fields: [field("id", { kind: "uuid" }), ...fields],
      access: {
        exposed: true,
        permit: { list: { kind: "anyone" }, read: { kind: "never" }, create: { kind: "never" }, update: { kind: "never" }, delete: { kind: "never" } },
        forbid: { list: { kind: "never" }, read: { kind: "never" }, create: { kind: "never" }, update: { kind: "never" }, delete: { kind: "never" } },
        scope: scope.map((predicate, i) => ({ id: `${name}.list.${i + 1}`, operation: "list", roles: "*", predicate, source: "" })),
      },
    }) as EntityIR;

  test("no path or via leaf: no section", () => {
    expect(emitScopeHelpers([entity("A", "a", [], [{ kind: "true" }])])).toBeNull();
  });

  test("one definition per helper, sorted by name; definer grants; junction indexes", () => {
    const entities = [
      entity("LineItem", "line_item", [field("invoice", { kind: "ref", entity: "Invoice", table: "invoice" })], [
        ORG_PATH,
        { kind: "and", children: [ORG_PATH, { kind: "not", child: ORG_PATH }] },
      ]),
      entity("Membership", "membership", [
        field("user", { kind: "ref", entity: "User", table: "user" }),
        field("project", { kind: "ref", entity: "Project", table: "project" }),
        field("revoked_at", { kind: "datetime" }),
      ], []),
      entity("Project", "project", [], [{ kind: "or", children: [MEMBERSHIP, { kind: "true" }] }]),
    ];
    expect(emitScopeHelpers(entities)).toBe(
      [
        "-- Scope helpers: FK paths and via junctions read other tables as dazzle_definer",
        'GRANT SELECT ON "invoice", "membership", "project" TO "dazzle_definer";',
        "",
        'CREATE OR REPLACE FUNCTION "dz_path_8d2e57e7"(uuid) RETURNS SETOF uuid',
        "  LANGUAGE sql STABLE SECURITY DEFINER",
        "  SET search_path = public, pg_temp",
        '  AS $$ SELECT t1."id" FROM "invoice" t1 WHERE t1."project" IN (SELECT t2."id" FROM "project" t2 WHERE t2."org" = $1) $$;',
        'ALTER FUNCTION "dz_path_8d2e57e7"(uuid) OWNER TO "dazzle_definer";',
        'REVOKE ALL ON FUNCTION "dz_path_8d2e57e7"(uuid) FROM PUBLIC;',
        'GRANT EXECUTE ON FUNCTION "dz_path_8d2e57e7"(uuid) TO "dazzle_app";',
        "COMMENT ON FUNCTION \"dz_path_8d2e57e7\"(uuid) IS 'dazzle-gen scope helper: FK path invoice.project.org = $1: ids of invoice rows';",
        "",
        'CREATE OR REPLACE FUNCTION "dz_via_5c68b98b"(uuid) RETURNS SETOF uuid',
        "  LANGUAGE sql STABLE SECURITY DEFINER",
        "  SET search_path = public, pg_temp",
        '  AS $$ SELECT j."project" FROM "membership" j WHERE j."user" = $1 AND j."revoked_at" IS NULL AND j."project" IS NOT NULL $$;',
        'ALTER FUNCTION "dz_via_5c68b98b"(uuid) OWNER TO "dazzle_definer";',
        'REVOKE ALL ON FUNCTION "dz_via_5c68b98b"(uuid) FROM PUBLIC;',
        'GRANT EXECUTE ON FUNCTION "dz_via_5c68b98b"(uuid) TO "dazzle_app";',
        "COMMENT ON FUNCTION \"dz_via_5c68b98b\"(uuid) IS 'dazzle-gen scope helper: via Membership(project = id, user = $1, revoked_at = null)';",
        "",
        'CREATE INDEX IF NOT EXISTS "ix_membership_revoked_at" ON "membership" ("revoked_at");',
      ].join("\n"),
    );
  });

  test("a hostile literal in a comment and a `$$` in a body stay quoted", () => {
    const odd: PathCheck = { kind: "path", hops: [{ column: "x", table: "a$$b" }], column: "it's", sqlType: "text", op: "=", value: { kind: "literal", value: HOSTILE } };
    const section = emitScopeHelpers([entity("T", "t", [], [odd])])!;
    expect(section).toContain(`  AS $dz$ SELECT t1."id" FROM "a$$b" t1 WHERE t1."it's" = $1 $dz$;`);
    expect(section).toContain("IS 'dazzle-gen scope helper: FK path x.it''s = $1: ids of a$$b rows';");
  });
});
