/**
 * Reports what the generator does not turn into code (DSL.md §3.1): SKIP constructs (DZ1901),
 * constructs not implemented in this version (DZ1902) and unknown top-level words (DZ1004).
 * Repeated warnings of one construct kind in one file are folded into the first occurrence with
 * a note "and N more in this file". Pure reporting: changes nothing.
 */
import { constructLater, constructSkipped, unknownTopLevel } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import type { FileNode } from "../syntax/ast";
import { closest } from "../util/names";

type Status = "later" | "skip";

/** Top-level keywords the generic block rule accepts, with what happens to them. */
export const TOP_LEVEL_STATUS: Readonly<Record<string, Status>> = {
  // IMPLEMENT in the language, not yet generated: reported as not implemented in this version.
  tenancy: "later", event_model: "later", audit: "later",
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

/** Entity keywords kept as raw blocks; `null` means understood without a warning. */
export const ENTITY_KEYWORD_STATUS: Readonly<Record<string, Status | null>> = {
  auth_identity: null,
  archetype: "later", index: "later", unique: "later", invariant: "later", transitions: "later",
  audit: "later", publish: "later", extends: "later", examples: "later", seed: "later",
  soft_delete: "later", temporal: "later", subtype_of: "later", was: "later", bulk: "later",
  expose: "later", on_transition: "later", signable: "later", tenant_host: "later",
  membership: "later", visible: "later", permissions: "later", access: "later",
  fitness: "skip", lifecycle: "skip", managed_by: "skip", graph_edge: "skip", graph_node: "skip",
  signing_validator: "skip", signing_template: "skip",
};

const TOP_LEVEL_KNOWN = ["module", "use", "app", "entity", "persona", ...Object.keys(TOP_LEVEL_STATUS)];

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
      if (s.kind === "block") {
        const status = TOP_LEVEL_STATUS[s.keyword.name];
        if (status === undefined) diagnostics.push(unknownTopLevel(s.keyword.span, s.keyword.name, closest(s.keyword.name, TOP_LEVEL_KNOWN)));
        else note(status, s.keyword.name, s.keyword.span, s.name);
      } else if (s.kind === "entity") {
        for (const m of s.members) {
          if (m.kind === "entityBlock") {
            const status = ENTITY_KEYWORD_STATUS[m.keyword.name];
            if (status) note(status, m.keyword.name, m.keyword.span, null);
          } else if (m.kind === "field" && m.children.length > 0) {
            note("skip", "semantic", m.children[0]!.span, null);
          }
        }
      }
    }
    for (const [construct, f] of found) {
      const make = f.status === "skip" ? constructSkipped : constructLater;
      diagnostics.push(make(f.span, construct, f.count === 1 ? f.name : null, f.count - 1));
    }
  }
  return diagnostics;
}
