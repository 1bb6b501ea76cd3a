/**
 * The access-decision log section (DSL.md §9.1, emit/sql/emit-audit.ts): the exact SQL without
 * and with tenancy, the grantees (caller roles run lists), no section when no entity audits, its
 * place among the migration sections, and the routes spec's `audit`/`sensitive` members.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { emitAudit } from "../../emit/sql/emit-audit";
import { migrationSections } from "../../emit/sql/emit-migrations";
import { emitRoutes } from "../../emit/ts/emit-routes";
import type { AppIR } from "../../ir/ir";

const CTX = { specName: "t.dz", generatorVersion: "0.0.0", templates: new Map<string, string>() };
const PERMIT = "  permit:\n    read: authenticated\n    update: authenticated\n";

function ir(text: string): AppIR {
  const result = analyze({ files: [makeSourceFile("t.dz", `app t "T"\n${text}`)], rootModule: null, fallbackName: "t", specName: "t.dz" });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.ir === null) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const section = (tenant: string) =>
  [
    "-- Access-decision log (audit:): written only through dazzle_log_decision, readable by no runtime role",
    'CREATE TABLE "_dazzle_audit_log" (',
    '  "id" uuid NOT NULL DEFAULT gen_random_uuid(),',
    '  "at" timestamptz NOT NULL DEFAULT now(),',
    '  "user_id" uuid,',
    '  "roles" text[] NOT NULL,',
    '  "tenant_id" uuid,',
    '  "operation" text NOT NULL,',
    '  "entity" text NOT NULL,',
    '  "entity_id" uuid,',
    '  "decision" text NOT NULL,',
    '  "reason" text NOT NULL,',
    '  "request_method" text NOT NULL,',
    '  "request_path" text NOT NULL,',
    '  "field_changes" jsonb,',
    '  CONSTRAINT "pk__dazzle_audit_log" PRIMARY KEY ("id"),',
    `  CONSTRAINT "ck__dazzle_audit_log_decision" CHECK ("decision" IN ('allow', 'deny'))`,
    ");",
    "",
    'CREATE INDEX "ix__dazzle_audit_log_entity_at" ON "_dazzle_audit_log" ("entity", "at");',
    "",
    'ALTER TABLE "_dazzle_audit_log" ENABLE ROW LEVEL SECURITY;',
    'ALTER TABLE "_dazzle_audit_log" FORCE ROW LEVEL SECURITY;',
    'GRANT INSERT ON "_dazzle_audit_log" TO "dazzle_definer";',
    "",
    'CREATE OR REPLACE FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) RETURNS void',
    "  LANGUAGE sql VOLATILE SECURITY DEFINER",
    "  SET search_path = public, pg_temp",
    '  AS $$ INSERT INTO "_dazzle_audit_log" ("user_id", "roles", "tenant_id", "entity", "operation", "entity_id", "decision", "reason", "request_method", "request_path", "field_changes")' +
      ` VALUES ("dazzle_user_id"(), coalesce(string_to_array(NULLIF(current_setting('dazzle.roles', true), ''), ','), '{}'), ${tenant}, $1, $2, $3, $4, $5, $6, $7, $8) $$;`,
    'ALTER FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) OWNER TO "dazzle_definer";',
    'REVOKE ALL ON FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) FROM PUBLIC;',
    'GRANT EXECUTE ON FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) TO "dazzle_app";',
    `COMMENT ON FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) IS 'dazzle-gen audit log: records one access decision with the session''s caller';`,
  ].join("\n");

describe("audit log: exact SQL", () => {
  test("without tenancy: the table, its index, RLS with no policy, the definer's INSERT and the writer (tenant_id NULL)", () => {
    const app = ir(`entity Doc:\n  title: str(40)\n  audit: all\n${PERMIT}`);
    expect(emitAudit(app, ["dazzle_app"])).toBe(section("NULL"));
  });

  test("under tenancy the writer fills tenant_id from dazzle_tenant_id()", () => {
    const app = ir(`tenancy:
  mode: shared_schema
  partition_key: tenant_id

entity Org:
  archetype: tenant
  name: str(80) required
${PERMIT}entity User:
  email: email required unique
  tenant_id: ref Org required
${PERMIT}entity Doc:
  title: str(40)
  audit: [read]
${PERMIT}`);
    expect(emitAudit(app, ["dazzle_app"])).toBe(section('"dazzle_tenant_id"()'));
  });

  test("EXECUTE goes to every runtime role given (the caller roles run lists)", () => {
    const app = ir(`entity Doc:\n  title: str(40)\n  audit: [list]\n${PERMIT}`);
    expect(emitAudit(app, ["dazzle_app", "dazzle_as_member"])).toContain(
      'GRANT EXECUTE ON FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) TO "dazzle_app", "dazzle_as_member";',
    );
  });

  test("no entity audits (absent or `audit: false`): no section", () => {
    const app = ir(`entity Doc:\n  title: str(40)\n  audit: false\n${PERMIT}entity Other:\n  n: int\n${PERMIT}`);
    expect(emitAudit(app, ["dazzle_app"])).toBeNull();
    expect(migrationSections(app).map((s) => s.name)).not.toContain("audit log");
  });

  test("the section comes after the events and before row-level security", () => {
    const app = ir(`entity Doc:\n  title: str(40)\n  audit: all\n${PERMIT}`);
    expect(migrationSections(app).map((s) => s.name)).toEqual(["roles", "session readers", "tables", "events", "audit log", "row-level security"]);
  });
});

describe("audit log: the routes spec", () => {
  const routes = (app: AppIR, name: string) => emitRoutes(app, app.entities.find((e) => e.name === name)!, CTX).contents;

  test("audited operations in canonical order, and the sensitive columns when updates are audited", () => {
    const app = ir(`entity Doc:\n  title: str(40)\n  secret: str(40) sensitive\n  audit: [update, list]\n${PERMIT}`);
    expect(routes(app, "Doc")).toContain(
      '  // audit: each request of these operations logs its access decision (_dazzle_audit_log).\n  audit: ["list", "update"],\n  sensitive: ["secret"],\n  validateCreate,',
    );
  });

  test("updates not audited: no sensitive member; no audit: neither member", () => {
    const app = ir(`entity Doc:\n  secret: str(40) sensitive\n  audit: [read]\n${PERMIT}entity Plain:\n  secret: str(40) sensitive\n${PERMIT}`);
    expect(routes(app, "Doc")).toContain('  audit: ["read"],\n  validateCreate,');
    expect(routes(app, "Plain")).not.toMatch(/audit:|sensitive:/);
  });
});
