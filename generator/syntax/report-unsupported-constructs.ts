/**
 * Reports what the generator does not turn into code (DSL.md §3.1): SKIP constructs (DZ1901),
 * LATER constructs (DZ1902) and unknown top-level words (DZ1004). IMPLEMENT constructs the parser
 * types (tenancy, event_model, audit on, index, invariant, transitions, …) are not reported here;
 * their LATER parts (`auto after`, `guard:`, `extends:`, tenancy's LATER keys, persona `backed_by`)
 * are, and so are persona keys the language does not know (DZ1901).
 * Repeated warnings of one construct kind in one file are folded into the first occurrence with
 * a note "and N more in this file". Pure reporting: changes nothing.
 */
import { constructLater, constructSkipped, unknownTopLevel } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import type { BlockLine, FileNode, PersonaDecl } from "../syntax/ast";
import { closest } from "../util/names";

type Status = "later" | "skip";

/** Top-level keywords the generic block rule accepts, with what happens to them. */
export const TOP_LEVEL_STATUS: Readonly<Record<string, Status>> = {
  archetype: "later", enum: "later", grant_schema: "later", subscribe: "later", projection: "later",
  channel: "later", message: "later", job: "later", schedule: "later", process: "later",
  webhook: "later", approval: "later", sla: "later", search: "later", service: "later",
  surface: "skip", workspace: "skip", experience: "skip", view: "skip", nav: "skip", scenario: "skip",
  demo: "skip", story: "skip", rule: "skip", question: "skip", rhythm: "skip", guide: "skip",
  island: "skip", feedback_widget: "skip", llm_model: "skip", llm_config: "skip", llm_intent: "skip",
  ledger: "skip", transaction: "skip", integration: "skip", foreign_model: "skip", flow: "skip",
  test: "skip", atomic: "skip", stream: "skip", hless: "skip", policies: "skip", interfaces: "skip",
  data_products: "skip", analytics: "skip", subprocessor: "skip", param: "skip", asset: "skip",
  document: "skip", template: "skip", notification: "skip",
};

/** Top-level keywords the parser types as IMPLEMENT constructs: no warning. */
const TOP_LEVEL_IMPLEMENTED = ["tenancy", "event_model", "audit"];

/** Entity keywords kept as block trees (LATER) or raw blocks (SKIP). */
export const ENTITY_KEYWORD_STATUS: Readonly<Record<string, Status>> = {
  extends: "later", examples: "later", seed: "later",
  soft_delete: "later", temporal: "later", subtype_of: "later", was: "later", bulk: "later",
  expose: "later", on_transition: "later", signable: "later", tenant_host: "later",
  membership: "later", visible: "later", permissions: "later", access: "later",
  fitness: "skip", lifecycle: "skip", managed_by: "skip", graph_edge: "skip", graph_node: "skip",
  signing_validator: "skip", signing_template: "skip",
};

const TOP_LEVEL_KNOWN = ["module", "use", "app", "entity", "persona", ...TOP_LEVEL_IMPLEMENTED, ...Object.keys(TOP_LEVEL_STATUS)];

/** `archetype:` values whose behaviour is LATER (§4.1); `tenant` is IMPLEMENT, any other word METADATA. */
const LATER_ARCHETYPES = new Set(["user", "settings", "tenant_settings", "user_membership", "profile"]);

/** Tenancy keys other than mode, partition_key and entities_excluded/exclude (§7). */
const TENANCY_LATER_KEYS = new Set(["admin_personas", "cross_tenant_access", "enforce_in_queries", "topics", "provisioning", "per_tenant_config"]);

/** Persona keys (§5.1): METADATA keys are silent, `backed_by`/`link_via` LATER, others SKIP. */
const PERSONA_METADATA_KEYS = new Set(["description", "goals", "proficiency", "default_workspace", "default_route", "interactive", "role"]);
const PERSONA_LATER_KEYS = new Set(["backed_by", "link_via"]);

const firstWord = (line: BlockLine): string | null => (line.tokens[0]?.type === "ident" ? line.tokens[0].text : null);

export function reportUnsupportedConstructs(files: readonly FileNode[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const found = new Map<string, { status: Status; span: Span; name: string | null; count: number }>();
    const note = (status: Status, construct: string, span: Span, name: string | null) => {
      const seen = found.get(construct);
      if (seen) seen.count++;
      else found.set(construct, { status, span, name, count: 1 });
    };
    for (const s of file.statements) {
      switch (s.kind) {
        case "block": {
          const status = TOP_LEVEL_STATUS[s.keyword.name];
          if (status === undefined) diagnostics.push(unknownTopLevel(s.keyword.span, s.keyword.name, closest(s.keyword.name, TOP_LEVEL_KNOWN)));
          else note(status, s.keyword.name, s.keyword.span, s.name);
          break;
        }
        case "laterBlock":
          note("later", s.keyword.name, s.keyword.span, s.name);
          break;
        case "archetype":
        case "enum":
        case "grantSchema":
          note("later", s.keyword.name, s.keyword.span, s.name.name);
          break;
        case "tenancy":
          for (const e of s.entries) {
            if (e.kind === "tenancyMode" && (e.value.name === "schema_per_tenant" || e.value.name === "database_per_tenant")) {
              note("later", `tenancy mode ${e.value.name}`, e.value.span, null);
            } else if (e.kind === "blockLine") {
              const key = firstWord(e);
              if (key !== null) note(TENANCY_LATER_KEYS.has(key) ? "later" : "skip", `tenancy ${key}`, e.span, null);
            }
          }
          break;
        case "persona":
          reportPersonaKeys(s, note);
          break;
        case "entity":
          for (const m of s.members) {
            if (m.kind === "entityBlock" || m.kind === "laterEntityBlock") {
              const status = ENTITY_KEYWORD_STATUS[m.keyword.name];
              if (status) note(status, m.keyword.name, m.keyword.span, null);
            } else if (m.kind === "extendsLine") {
              note("later", "extends", m.span, null);
            } else if (m.kind === "archetypeLine" && LATER_ARCHETYPES.has(m.name.name)) {
              note("later", `archetype: ${m.name.name}`, m.name.span, null);
            } else if (m.kind === "field" && m.children.length > 0) {
              note("skip", "semantic", m.children[0]!.span, null);
            } else if (m.kind === "transitions") {
              for (const t of m.transitions) {
                for (const c of t.constraints) if (c.kind === "autoAfter") note("later", "auto after", c.span, null);
                for (const g of t.guards) note("later", "guard", g.span, null);
              }
            }
          }
          break;
        case "module":
        case "use":
        case "app":
        case "eventModel":
        case "auditOn":
          break;
      }
    }
    for (const [construct, f] of found) {
      const make = f.status === "skip" ? constructSkipped : constructLater;
      diagnostics.push(make(f.span, construct, f.count === 1 ? f.name : null, f.count - 1));
    }
  }
  return diagnostics;
}

function reportPersonaKeys(persona: PersonaDecl, note: (status: Status, construct: string, span: Span, name: string | null) => void): void {
  for (const e of persona.entries) {
    if (e.kind === "rawLine") {
      // `uses nav X` is METADATA; any other raw line is a key the language does not know.
      if (!/^uses\s+nav\b/.test(e.text)) note("skip", `persona ${e.text.split(/[\s:]/)[0]}`, e.span, null);
    } else if (PERSONA_LATER_KEYS.has(e.key.name)) note("later", `persona ${e.key.name}`, e.key.span, null);
    else if (!PERSONA_METADATA_KEYS.has(e.key.name)) note("skip", `persona ${e.key.name}`, e.key.span, null);
  }
}
