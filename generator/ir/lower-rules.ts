/**
 * Lowers entity rules (index/unique lines, invariants, transitions, `audit:`, `publish`,
 * `archetype:`) and the app-level tenancy, event model and field history to IR. Assumes checked
 * input (runs after every check pass); a failed assumption is DZ9001.
 */
import { TENANCY_MODES } from "../semantic/check-tenancy";
import { eventFieldType, eventFields, isRequired } from "../semantic/check-events";
import type { CheckedProgram, EntityInfo } from "../semantic/program";
import type { RetentionValue } from "../syntax/ast";
import { lowerLaterEntityBlocks, lowerLaterStatements } from "./lower-later";
import {
  OPERATIONS,
  type AppRulesIR,
  type EntityRulesIR,
  type IndexIR,
  type InvariantIR,
  type Operation,
  type PublishIR,
  type StateMachineIR,
  type TenancyIR,
  type TransitionIR,
} from "./ir";

export function lowerEntityRules(entity: EntityInfo, program: CheckedProgram): EntityRulesIR {
  const indexes: IndexIR[] = [];
  const invariants: InvariantIR[] = [];
  const publishes: PublishIR[] = [];
  /** State field → its edges, in the order of each field's first block. */
  const machines = new Map<string, TransitionIR[]>();
  let auditOperations: readonly Operation[] = [];
  let archetype: string | null = null;
  const money = new Set(entity.decl.members.flatMap((m) => (m.kind === "field" && m.type.kind === "namedType" && m.type.name.name === "money" ? [m.name.name] : [])));
  let n = 0;

  for (const m of entity.decl.members) {
    switch (m.kind) {
      case "indexLine": {
        const columns = m.fields.flatMap((f) => (money.has(f.name) ? [`${f.name}_currency`, `${f.name}_minor`] : [f.name]));
        const unique = m.keyword === "unique";
        if (!indexes.some((i) => i.unique === unique && i.columns.join() === columns.join())) indexes.push({ unique, columns });
        break;
      }
      case "invariant": {
        n++;
        const checked = program.rules.invariants.get(m);
        if (!checked) break; // LATER (aggregates): reported, not enforced
        invariants.push({
          name: m.code?.name ?? `inv_${n}`,
          code: m.code?.name ?? null,
          message: m.message?.value ?? sourceText(program, m.expr.span),
          source: sourceText(program, m.expr.span),
          expr: checked.expr,
          rowLocal: checked.rowLocal,
        });
        break;
      }
      case "transitions": {
        const field = program.rules.stateFields.get(m);
        if (field === undefined) throw new Error(`DZ9001: transitions of ${entity.name} without a state field survived checking`);
        const edges = m.transitions.map((t): TransitionIR => {
          const auto = t.constraints.find((c) => c.kind === "autoAfter");
          return {
            from: t.from.kind === "anyState" ? null : t.from.name,
            to: t.to.name,
            roles: [...new Set(t.constraints.flatMap((c) => (c.kind === "roleConstraint" ? c.roles.map((r) => r.name) : [])))],
            requires: t.constraints.flatMap((c) => (c.kind === "requires" ? [c.field.name] : [])),
            availableToApi: t.guards.length === 0 && (auto === undefined || auto.kind !== "autoAfter" || auto.orManual),
            autoAfter: auto && auto.kind === "autoAfter" ? `${auto.amount} ${auto.unit ?? "days"}` : null,
          };
        });
        // Each block's state field is found on its own (§4.9): blocks over different fields are
        // separate machines, blocks over one field merge into one.
        machines.set(field, [...(machines.get(field) ?? []), ...edges]);
        break;
      }
      case "entityAudit":
        auditOperations =
          m.value.kind === "auditList"
            ? OPERATIONS.filter((op) => m.value.kind === "auditList" && m.value.operations.some((o) => o.name === op))
            : m.value.word === "false"
              ? []
              : [...OPERATIONS];
        break;
      case "publish":
        publishes.push({
          event: m.event.name,
          when: m.when === null ? { kind: "created" } : m.when.kind === "lifecycle" ? { kind: m.when.event } : { kind: "changed", field: m.when.field.name },
        });
        break;
      case "archetypeLine":
        archetype = m.name.name;
        break;
      default:
        break;
    }
  }
  // Exact edges stay before every `*` edge (§4.9: the first failing guard reported is the first
  // candidate's, exact edges before `*`).
  const stateMachines = [...machines].map(([field, all]): StateMachineIR => ({
    field,
    transitions: [...all.filter((e) => e.from !== null), ...all.filter((e) => e.from === null)],
  }));
  const later = lowerLaterEntityBlocks(program, entity);
  return { indexes, invariants, stateMachines, auditOperations, publishes, archetype, ...(later.length > 0 ? { later } : {}) };
}

export function lowerAppRules(program: CheckedProgram): AppRulesIR {
  const { tenancy, events, fieldHistory } = program.rules;
  const later = lowerLaterStatements(program);
  return {
    ...(later.length > 0 ? { later } : {}),
    tenancy: tenancy.decl === null ? null : lowerTenancy(program),
    eventModel: {
      topics: events.topics.map((t) => {
        let retentionDays = 7;
        let partitionKey = "entity_id";
        for (const e of t.entries) {
          if (e.kind === "topicRetention") retentionDays = days(e.value);
          else if (e.kind === "topicPartitionKey") partitionKey = e.value.name;
        }
        return { name: t.name.name, retentionDays, partitionKey };
      }),
      events: events.events.map((ev) => {
        let topic = "default";
        let version = "1.0";
        let payloadEntity: string | null = null;
        for (const e of ev.entries) {
          if (e.kind === "eventTopic") topic = e.value.name;
          else if (e.kind === "eventVersion") version = e.value.value;
          else if (e.kind === "eventPayload") payloadEntity = e.value.name;
        }
        const fields = eventFields(ev).map((f) => ({ name: f.name.name, type: eventFieldType(f), required: isRequired(f) }));
        return { name: ev.name.name, topic, version, payloadEntity, fields };
      }),
    },
    fieldHistory: fieldHistory.map((d) => {
      let fields: string[] = [];
      let showTo: string[] = [];
      let retentionDays = 0;
      for (const e of d.entries) {
        if (e.kind === "auditTrack") fields = e.fields.map((f) => f.name);
        else if (e.kind === "auditShowTo") showTo = [...new Set(e.roles.map((r) => r.name))];
        else if (e.kind === "auditRetention") retentionDays = days(e.value);
      }
      return { entity: d.entity.name, fields, showTo, retentionDays };
    }),
  };
}

function lowerTenancy(program: CheckedProgram): TenancyIR {
  const { decl, root } = program.rules.tenancy;
  let mode: TenancyIR["mode"] = "shared_schema";
  let partitionKey = "tenant_id";
  let excluded: string[] = [];
  for (const e of decl?.entries ?? []) {
    if (e.kind === "tenancyMode") {
      if (!(TENANCY_MODES as readonly string[]).includes(e.value.name)) throw new Error(`DZ9001: tenancy mode ${e.value.name} survived checking`);
      mode = e.value.name as TenancyIR["mode"];
    } else if (e.kind === "tenancyPartitionKey") partitionKey = e.value.name;
    else if (e.kind === "tenancyExcluded") excluded = [...excluded, ...e.entities.map((x) => x.name)];
  }
  // Whether tenancy is active was decided once, at link time (link-tenancy.ts); hand-built
  // programs without that link step fall back to the same rule (DSL.md §7 "Activation").
  const active = program.tenancy !== undefined ? program.tenancy !== null : mode === "shared_schema" && root !== null;
  return { mode, partitionKey, excluded: [...new Set(excluded)].sort(), root: root?.name ?? null, active };
}

/** Days of a retention value: a number of days, or a duration (`m` = 30 days, `y` = 365 here). */
function days(v: RetentionValue): number {
  if (v.kind === "numberLit") return Number(v.text);
  const { amount, unit } = v.duration;
  const perUnit = { min: 1 / 1440, h: 1 / 24, d: 1, w: 7, m: 30, y: 365 }[unit];
  return amount * perUnit;
}

function sourceText(program: CheckedProgram, span: { file: string; start: { offset: number }; end: { offset: number } }): string {
  const file = program.project.sources.get(span.file);
  return file ? file.text.slice(span.start.offset, span.end.offset) : "";
}
