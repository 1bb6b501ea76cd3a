/**
 * Checks `event_model:` blocks and `publish` lines (DSL.md §8.1). Guarantees: topic and event names
 * are unique across the project (DZ2001); every event's `topic:` and every `publish`ed event is
 * declared (DZ2009); `payload:` names an entity (DZ2002); `publish … when f changed` names a field
 * (DZ2003). Unknown event field types and required payload fields no rule fills warn DZ4013.
 */
import { duplicateDeclaration, eventFieldProblem, unknownEntity, unknownEventOrTopic, unknownField } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { EventDecl, EventField, TopicDecl } from "../syntax/ast";
import { closest, snakeCase } from "../util/names";
import type { EntityInfo, LinkedProgram, PassResult } from "./program";

export const EVENT_FIELD_TYPES = new Set(["str", "text", "int", "decimal", "float", "bool", "date", "datetime", "uuid", "json", "email", "url"]);

export interface CheckedEvents {
  /** Sorted by name. */
  readonly topics: readonly TopicDecl[];
  readonly events: readonly EventDecl[];
}

export function checkEvents(program: LinkedProgram): PassResult<CheckedEvents> {
  const diagnostics: Diagnostic[] = [];
  const topics = new Map<string, TopicDecl>();
  const events = new Map<string, EventDecl>();
  for (const file of program.project.files) {
    for (const s of file.statements) {
      if (s.kind !== "eventModel") continue;
      for (const item of s.items) {
        const into: Map<string, TopicDecl | EventDecl> | null = item.kind === "topic" ? topics : item.kind === "event" ? events : null;
        if (into === null || item.kind === "blockLine") continue;
        const first = into.get(item.name.name);
        if (first) diagnostics.push(duplicateDeclaration(item.name.span, item.kind, item.name.name, first.name.span));
        else into.set(item.name.name, item);
      }
    }
  }

  for (const event of events.values()) {
    for (const e of event.entries) {
      if (e.kind === "eventTopic" && !topics.has(e.value.name)) {
        diagnostics.push(unknownEventOrTopic(e.value.span, "topic", e.value.name, closest(e.value.name, topics.keys())));
      } else if (e.kind === "eventPayload" && !program.entitiesByName.has(e.value.name)) {
        diagnostics.push(unknownEntity(e.value.span, e.value.name, closest(e.value.name, program.entitiesByName.keys())));
      } else if (e.kind === "eventFields") {
        for (const f of e.fields) {
          if (!EVENT_FIELD_TYPES.has(f.type.name)) diagnostics.push(eventFieldProblem(f.type.span, `unknown event field type \`${f.type.name}\``));
        }
      }
    }
  }

  for (const entity of program.entities) {
    for (const m of entity.decl.members) {
      if (m.kind !== "publish") continue;
      const event = events.get(m.event.name);
      if (!event) {
        diagnostics.push(unknownEventOrTopic(m.event.span, "event", m.event.name, closest(m.event.name, events.keys())));
        continue;
      }
      if (m.when?.kind === "fieldChanged") {
        const f = m.when.field;
        const declared = f.name === "id" || entity.decl.members.some((x) => x.kind === "field" && x.name.name === f.name);
        if (!declared) diagnostics.push(unknownField(f.span, entity.name, f.name, closest(f.name, entity.fieldsByName.keys())));
      }
      for (const f of eventFields(event)) {
        if (isRequired(f) && EVENT_FIELD_TYPES.has(f.type.name) && !derivable(f, entity)) {
          diagnostics.push(eventFieldProblem(f.name.span, `required field \`${f.name.name}\` of ${event.name.name} cannot be filled from ${entity.name} (published at line ${m.span.start.line}); it will be null`));
        }
      }
    }
  }
  const byName = <T extends { name: { name: string } }>(m: Map<string, T>) => [...m.values()].sort((a, b) => (a.name.name < b.name.name ? -1 : 1));
  return { value: { topics: byName(topics), events: byName(events) }, diagnostics };
}

export function eventFields(event: EventDecl): readonly EventField[] {
  return event.entries.flatMap((e) => (e.kind === "eventFields" ? e.fields : []));
}

export const isRequired = (f: EventField) => f.modifiers.some((m) => m.name === "required");

/**
 * The type of an event field as written, type arguments included (DSL.md §8.1): `str(200)`,
 * `decimal(10,2)` (whitespace inside the parentheses dropped), and for a `ref`/`belongs_to` (not
 * an event field type, DZ4013) its target: `ref Order`. The IR keeps this text, so consumers of
 * the event model see the precision and length the author declared.
 */
export function eventFieldType(f: EventField): string {
  const args = f.args === null ? "" : `(${f.args.replace(/\s+/g, "")})`;
  const target = f.type.name === "ref" || f.type.name === "belongs_to" ? f.modifiers.find((m) => m.name !== "required") : undefined;
  return `${f.type.name}${args}${target ? ` ${target.name}` : ""}`;
}

/** The payload rules of DSL.md §8.2, in order. */
export function derivable(f: EventField, entity: EntityInfo): boolean {
  const name = f.name.name;
  const has = (c: string) => entity.fieldsByName.has(c) || entity.decl.members.some((m) => m.kind === "field" && m.name.name === c);
  if (has(name)) return true;
  if (name === `${snakeCase(entity.name)}_id`) return true;
  const oldNew = /^(old|new)_(.+)$/.exec(name);
  if (oldNew && has(oldNew[2]!)) return true;
  if (f.type.name === "datetime" && name.endsWith("_at")) return true;
  if (f.type.name === "uuid" && name.endsWith("_by")) return true;
  return false;
}
