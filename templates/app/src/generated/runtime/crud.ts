/**
 * The CRUD flow of every entity, written once. A generated `<entity>/routes.ts` describes its
 * entity as an `EntitySpec` (table, columns, JSON serializer, validators, access rules, the
 * constraints a client can violate) and mounts `entityRouter(database, spec)`.
 *
 * Every handler checks in the order of DSL.md §6.9: 401 (no credentials, and the operation has no
 * `anonymous` permit rule) → permit/forbid 403 → scope (an empty page, 404, or 403
 * scope_create_denied) → validation 422 → transitions 422 (update) → invariants 422 → the write (409,
 * or 422 on the field a constraint names, or on the invariant a CHECK constraint stands for).
 * Request values are always bound parameters; the only raw SQL is text the generator compiled
 * (scope filters, probe column types and defaults), entering Kysely through `sql.raw`. All
 * database work runs in `withCaller`, one transaction whose first statement sets the role and
 * session settings RLS reads, so the database enforces the same rules again.
 *
 * An entity with `audit:` (DSL.md §9.1) logs one access decision per request of an audited
 * operation through the migration's `dazzle_log_decision`: `allow`/`permit` inside the operation's
 * own transaction (so it commits only with the operation: a 422 or 409 after the decision leaves
 * no row), `deny` with its reason in a short transaction of its own after the failed one. A 401,
 * or a path id that is not a uuid, comes before any decision and is not logged.
 */
import { randomUUID } from "node:crypto";
import { Router, type Request, type Response } from "express";
import { sql, type Insertable, type Kysely, type Selectable, type Simplify, type Transaction, type Updateable } from "kysely";
import type { DB } from "../db";
import type { FieldIssue } from "../validation";
import { listPlanFor, permitDenial, scopeFor, type AccessRules, type Operation, type ScopeFilter, type ScopeRule } from "./access";
import { ANONYMOUS, callerOf, type Caller } from "./auth";
import type { Database } from "./database";
import { HttpError } from "./errors";
import type { EventAuthorizer, StoredEvent } from "./events";
import { parseId, parsePagination } from "./http";
import { readAsCaller, withCaller } from "./transaction";

/** A table of the app; each one has a uuid primary key `id`. */
export type Table = keyof DB & string;

/** A row of table T, as Kysely returns it from `SELECT *`. */
export type Row<T extends Table> = Simplify<Selectable<DB[T]>>;

/**
 * A row read for a response: the table's columns plus the entity's computed fields (DSL.md §4.8),
 * whose values the generated `toJson` types by the field's computed type.
 */
export type ReadRow<T extends Table> = Row<T> & { readonly [computed: string]: unknown };

/**
 * A computed field (DSL.md §4.8): generator-compiled SQL over the row (aliased as the table), with
 * one slot per aggregate over a child entity — `sql[0] <scope of children[0]> sql[1] …` — filled
 * per request with the child's list scope for the caller, so aggregates only read child rows the
 * caller may list (RLS applies as well).
 */
export interface ComputedSpec {
  readonly name: string;
  readonly sql: readonly string[];
  readonly children: readonly ChildScope[];
}

/** An aggregate's child entity: its rules (list permit) and its list scope compiled over the subquery's alias. */
export interface ChildScope {
  readonly access: AccessRules;
  /** null: the child has no `scope:` block (every row). */
  readonly list: readonly ScopeRule[] | null;
}

/** A column of a probe's would-be row: its PostgreSQL type and the SQL default used when absent. */
export interface ProbeColumn<T extends Table> {
  readonly name: keyof Row<T> & string;
  readonly type: string;
  readonly absent: string;
}

/**
 * An invariant (DSL.md §4.10). A row-local one is the CHECK constraint `constraint`, mapped back
 * from SQLSTATE 23514; the others carry `probe`, boolean SQL over the would-be row (aliased as the
 * table) that the flow evaluates before the write. FALSE is a violation; NULL passes.
 */
export interface InvariantSpec {
  /** The `code:`, else `inv_<n>`. */
  readonly code: string;
  /** The `message:`, else the expression as written. */
  readonly message: string;
  readonly constraint?: string;
  readonly probe?: string;
}

/** One edge of a state machine (DSL.md §4.9). */
export interface TransitionSpec {
  /** null for `*`. */
  readonly from: string | null;
  readonly to: string;
  /** The caller needs one of these roles; empty means any caller. */
  readonly roles: readonly string[];
  /** Fields (and their columns) that must be non-null and non-empty on the destination row. */
  readonly requires: readonly { readonly field: string; readonly column: string }[];
  /** False for `auto after …` without `or manual` and for `guard:` edges (fail-closed in v1). */
  readonly available: boolean;
}

/** The `transitions:` over one state field: exact edges first, then `*` edges, each in declaration order. */
export interface StateMachineSpec {
  readonly field: string;
  readonly column: string;
  readonly transitions: readonly TransitionSpec[];
}

/** What the flow needs to know about one entity; generated in `<entity>/routes.ts`. */
export interface EntitySpec<T extends Table, Json> {
  /** The entity's name, for messages. */
  readonly name: string;
  readonly table: T;
  /** The partition key of a tenant-scoped table (DSL.md §7; absent otherwise). */
  readonly tenantColumn?: string;
  readonly access: AccessRules;
  /** Every column of the table, in declaration order: the would-be row of a probe. */
  readonly columns: readonly ProbeColumn<T>[];
  /** Constraints whose violation by a create or update is the client's fault: a 422 on the field. */
  readonly constraints: Readonly<Record<string, FieldIssue>>;
  /** Invariants, in declaration order (absent: none). */
  readonly invariants?: readonly InvariantSpec[];
  /** One machine per state field, each checked on every update that changes its field (absent: none). */
  readonly stateMachines?: readonly StateMachineSpec[];
  /** A POST body as insert values, or a 422; `callerId` fills references to the principal. */
  readonly validateCreate: (body: unknown, callerId: string | null) => Insertable<DB[T]>;
  /** A PATCH body as update values (only the fields present change), or a 422. */
  readonly validateUpdate: (body: unknown) => Updateable<DB[T]>;
  /** Computed fields, in declaration order (absent: none); read-only, in every SELECT of a response. */
  readonly computed?: readonly ComputedSpec[];
  /** The operations whose access decisions are logged (`audit:`, DSL.md §9.1; absent: none). */
  readonly audit?: readonly Operation[];
  /** Columns of `sensitive` fields: "[redacted]" in an audited update's field_changes (absent: none). */
  readonly sensitive?: readonly string[];
  /** The JSON body of a row. */
  readonly toJson: (row: ReadRow<T>) => Json;
}

/** Routes of one entity: list, read, create, update (PATCH) and delete. */
export function entityRouter<T extends Table, Json>(database: Database, spec: EntitySpec<T, Json>): Router {
  const entity = new EntityFlow(spec);
  const routes = Router();
  routes.get("/", (req, res) => entity.logged(database, req, res, "list", null, (log) => entity.list(database, req.query, res, log)));
  routes.post("/", (req, res) => entity.logged(database, req, res, "create", null, (log) => entity.create(database, req.body, res, log)));
  routes.get("/:id", (req, res) => entity.logged(database, req, res, "read", req.params.id, (log) => entity.read(database, req.params.id, res, log)));
  routes.patch("/:id", (req, res) =>
    entity.logged(database, req, res, "update", req.params.id, (log) => entity.update(database, req.params.id, req.body, res, log)),
  );
  routes.delete("/:id", (req, res) => entity.logged(database, req, res, "delete", req.params.id, (log) => entity.remove(database, req.params.id, res, log)));
  return routes;
}

/** Why an audited request was denied (DSL.md §9.1). */
type DenyReason = "forbid" | "no_permit" | "no_scope_rule" | "out_of_scope" | "scope_create_denied";

/** The deny reason of each error that answers an access decision; other errors (401, 422, …) have none. */
const denyReasons = new WeakMap<object, DenyReason>();

/** `error`, remembered as answering a denial for `reason`. */
function denial(error: HttpError, reason: DenyReason): HttpError {
  denyReasons.set(error, reason);
  return error;
}

/** What an access-log row records of the request: its method and path without the query string. */
interface RequestLine {
  readonly method: string;
  readonly path: string;
}

/**
 * Which events of the entity may be sent to the caller: the caller must pass permit for list and
 * the row must be in its list scope — re-read for created/updated, the old row image for deleted.
 * A whole batch costs one transaction for the caller (at most two queries).
 */
export function eventAuthorizer<T extends Table, Json>(spec: EntitySpec<T, Json>): EventAuthorizer {
  const entity = new EntityFlow(spec);
  return (events, caller, database) => entity.authorizeEvents(events, caller, database);
}

/** A would-be row for a scope probe: a value per column; an absent column takes its SQL default. */
type Candidate<T extends Table> = { readonly [K in keyof Row<T>]?: unknown };

/** The operations of one entity, one method each, and the steps they share. */
class EntityFlow<T extends Table, Json> {
  private readonly spec: EntitySpec<T, Json>;
  /**
   * The table as the queries name it. Kysely resolves columns only for a concrete table, not for
   * one named by a type parameter, so the queries are typed over every table of DB: column
   * references check against all tables (the flow names only `id`, which each has), values keep
   * the per-table types of the spec's validators, and `$castTo` gives rows back their type —
   * exact, since each query selects `*` from this one table.
   */
  private readonly table: Table;

  constructor(spec: EntitySpec<T, Json>) {
    this.spec = spec;
    this.table = spec.table;
  }

  /**
   * Runs one operation; when `op` is audited, `run` gets the request line (it logs the allow row
   * in its transaction) and a denial it throws is logged afterwards (`idRaw`: the path id, if any).
   */
  async logged(
    database: Database,
    req: Request,
    res: Response,
    op: Operation,
    idRaw: string | null,
    run: (log: RequestLine | null) => Promise<void>,
  ): Promise<void> {
    if (this.spec.audit?.includes(op) !== true) return run(null);
    const log: RequestLine = { method: req.method, path: req.originalUrl.split("?")[0]! };
    try {
      await run(log);
    } catch (error) {
      const reason = typeof error === "object" && error !== null ? denyReasons.get(error) : undefined;
      if (reason !== undefined) await this.logDenial(database, callerOf(res) ?? ANONYMOUS, op, idRaw === null ? null : idOrNull(idRaw), reason, log);
      throw error;
    }
  }

  /** GET /: one page of the rows in the caller's list scope, ordered by id. */
  async list(database: Database, query: Request["query"], res: Response, log: RequestLine | null = null): Promise<void> {
    const caller = this.authorize(res, "list");
    const { page, pageSize, offset } = parsePagination(query);
    const scope = scopeFor(this.spec.access, "list", caller);
    if (scope === null) {
      // No matching scope rule: an empty page, without a query (DSL.md §6.8).
      if (log !== null) await this.logDenial(database, caller, "list", null, "no_scope_rule", log);
      res.json({ data: [], page, page_size: pageSize });
      return;
    }
    const plan = listPlanFor(this.spec.access, caller, scope);
    const pageQuery = database.db
      .selectFrom(this.table)
      .selectAll()
      .$if(this.spec.computed !== undefined, (query) => query.select(this.computedColumns(caller)))
      .where(inScope(plan.filter))
      .orderBy("id")
      .limit(pageSize)
      .offset(offset)
      .$castTo<Selectable<DB[T]>>()
      .compile();
    const allowed = log === null ? undefined : this.decision("list", null, "allow", "permit", log).compile(database.db);
    const rows = await readAsCaller<ReadRow<T>>(database, caller, pageQuery, plan.role, allowed);
    res.json({ data: rows.map((row) => this.spec.toJson(row)), page, page_size: pageSize });
  }

  /** GET /:id: the row, if it is in the caller's read scope (404 otherwise, whatever the reason). */
  async read(database: Database, rawId: string, res: Response, log: RequestLine | null = null): Promise<void> {
    const caller = this.authorize(res, "read");
    const id = parseId(rawId);
    const scope = scopeFor(this.spec.access, "read", caller);
    if (scope === null) throw this.notFound("no_scope_rule");
    // Audited: the allow row only once the row is found, so the read and the row share a transaction.
    const [row] =
      log === null
        ? await readAsCaller<ReadRow<T>>(database, caller, this.readQuery(database.db, caller, id, scope).compile())
        : await withCaller(database, caller, async (trx) => {
            const found = await this.readRow(trx, caller, id, scope);
            if (found !== undefined) await this.decision("read", id, "allow", "permit", log).execute(trx);
            return [found];
          });
    if (row === undefined) throw this.notFound("out_of_scope");
    res.json(this.spec.toJson(row));
  }

  /**
   * POST /: validate (422), evaluate the create scope over the would-be row in PostgreSQL (403
   * scope_create_denied), insert without RETURNING (RLS would apply the SELECT policy to it),
   * then answer with the row re-read through the read scope, or only its id when the caller
   * may not read it.
   */
  async create(database: Database, body: unknown, res: Response, log: RequestLine | null = null): Promise<void> {
    const caller = this.authorize(res, "create");
    const values = this.spec.validateCreate(body, caller.userId);
    const scope = scopeFor(this.spec.access, "create", caller);
    if (scope === null) throw this.createDenied("no_scope_rule");
    const id = randomUUID();
    const row = await withCaller(database, caller, async (trx) => {
      if (!(await this.probe(trx, scope, { ...values, id }))) throw this.createDenied("scope_create_denied");
      // Create is not a transition: any valid state is accepted (DSL.md §4.9).
      await this.checkInvariants(trx, { ...values, id });
      await this.insertRow(trx, { ...values, id });
      if (log !== null) await this.decision("create", id, "allow", "permit", log).execute(trx);
      return this.readBack(trx, caller, id);
    });
    res.status(201).json(row === undefined ? { id } : this.spec.toJson(row));
  }

  /**
   * PATCH /:id: the row must be in the caller's update scope before (source) and after
   * (destination) the change, else 404 — a row cannot be moved out of the caller's reach.
   */
  async update(database: Database, rawId: string, body: unknown, res: Response, log: RequestLine | null = null): Promise<void> {
    const caller = this.authorize(res, "update");
    const id = parseId(rawId);
    const scope = scopeFor(this.spec.access, "update", caller);
    if (scope === null) throw this.notFound("no_scope_rule");
    const row = await withCaller(database, caller, async (trx) => {
      // Source side first (404), then the body (422): DSL.md §6.9.
      const before = await this.findRow(trx, id, scope, true);
      if (before === undefined) throw this.notFound("out_of_scope");
      const changes = this.spec.validateUpdate(body);
      const after: Candidate<T> = { ...this.asValues(before), ...changes };
      if (Object.keys(changes).length > 0) {
        if (!(await this.probe(trx, scope, after))) throw this.notFound("out_of_scope");
        this.checkTransition(caller, before, after);
        await this.checkInvariants(trx, after);
        await this.updateRow(trx, id, scope, changes);
      }
      if (log !== null) await this.decision("update", id, "allow", "permit", log, this.fieldChanges(before, after)).execute(trx);
      return this.readBack(trx, caller, id);
    });
    res.json(row === undefined ? { id } : this.spec.toJson(row));
  }

  /** DELETE /:id: the row must be in the caller's delete scope (404); a referencing row blocks it (409). */
  async remove(database: Database, rawId: string, res: Response, log: RequestLine | null = null): Promise<void> {
    const caller = this.authorize(res, "delete");
    const id = parseId(rawId);
    const scope = scopeFor(this.spec.access, "delete", caller);
    if (scope === null) throw this.notFound("no_scope_rule");
    await withCaller(database, caller, async (trx) => {
      if ((await this.findRow(trx, id, scope)) === undefined) throw this.notFound("out_of_scope");
      // A foreign-key violation (23503) propagates: the error handler answers 409 conflict.
      const result = await trx.deleteFrom(this.table).where("id", "=", id).where(inScope(scope)).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw this.notFound("out_of_scope");
      if (log !== null) await this.decision("delete", id, "allow", "permit", log).execute(trx);
    });
    res.status(204).end();
  }

  /** See `eventAuthorizer`: the seqs of the events the caller may receive. */
  async authorizeEvents(events: readonly StoredEvent[], caller: Caller, database: Database): Promise<ReadonlySet<string>> {
    if (permitDenial(this.spec.access, "list", caller) !== null) return new Set();
    const scope = scopeFor(this.spec.access, "list", caller);
    if (scope === null) return new Set();
    const deletedType = `${this.spec.name}.deleted`;
    const deleted = events.filter((e) => e.eventType === deletedType).map((e) => e.seq);
    const live = events.filter((e) => e.eventType !== deletedType && e.entityId !== "");
    // Without a scope or a tenant fence, every deleted row was in the caller's list scope.
    const everyDeleted = scope.sql === "TRUE" && this.spec.tenantColumn === undefined;
    if (live.length === 0 && (deleted.length === 0 || everyDeleted)) return new Set(deleted);
    return withCaller(database, caller, async (trx) => {
      const ids = live.length === 0 ? new Set<string>() : await this.idsInScope(trx, [...new Set(live.map((e) => e.entityId))], scope);
      const gone = everyDeleted || deleted.length === 0 ? deleted : await this.deletedInScope(trx, deleted, scope);
      return new Set([...live.filter((e) => ids.has(e.entityId)).map((e) => e.seq), ...gone]);
    });
  }

  /** The ids among `ids` of rows in the scope (RLS applies as well). */
  private async idsInScope(trx: Transaction<DB>, ids: readonly string[], scope: ScopeFilter): Promise<Set<string>> {
    const rows = await trx
      .selectFrom(this.table)
      .select("id")
      .where(sql<boolean>`${sql.ref("id")} = ANY (${ids}::uuid[])`)
      .where(inScope(scope))
      .$castTo<{ id: string }>()
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /**
   * The seqs among `seqs` (deleted events of this entity) whose row's last image was in the
   * scope. `dazzle_deleted_images` hands out only those images, of the session's tenant; an image
   * is not a table row, so RLS's tenant fence does not see it: the fence is applied here as well.
   */
  private async deletedInScope(trx: Transaction<DB>, seqs: readonly string[], scope: ScopeFilter): Promise<string[]> {
    const table = sql.id(this.spec.table);
    const tenant = this.spec.tenantColumn;
    const fence = tenant === undefined ? sql`TRUE` : sql`${sql.ref(`${this.spec.table}.${tenant}`)} = dazzle_tenant_id()`;
    const { rows } = await sql<{ seq: string }>`SELECT dz_event.seq::text AS seq
      FROM dazzle_deleted_images(${this.spec.name}, ${seqs}::bigint[]) AS dz_event
      CROSS JOIN LATERAL jsonb_populate_record(NULL::${table}, dz_event.old) AS ${table}
      WHERE dz_event.old IS NOT NULL AND (${inScope(scope)}) AND ${fence}`.execute(trx);
    return rows.map((r) => r.seq);
  }

  /**
   * The first two checks of every operation, in this order: no credentials on an operation
   * without an `anonymous` permit rule ⇒ 401; then permit/forbid ⇒ 403 naming the rule.
   */
  private authorize(res: Response, op: Operation): Caller {
    const authenticated = callerOf(res);
    if (authenticated === null && !this.spec.access.anonymous.includes(op)) {
      throw new HttpError(401, "unauthorized", "authentication required");
    }
    const caller = authenticated ?? ANONYMOUS;
    const rule = permitDenial(this.spec.access, op, caller);
    if (rule !== null) {
      const error = new HttpError(403, "forbidden", `not permitted to ${op} ${this.spec.name}`, undefined, rule);
      throw denial(error, rule.endsWith(".forbid") ? "forbid" : "no_permit");
    }
    return caller;
  }

  /**
   * `SELECT dazzle_log_decision(…)`: one access-log row (DSL.md §9.1); the function adds the
   * caller's id, roles and tenant from the transaction's session settings.
   */
  private decision(op: Operation, entityId: string | null, decision: "allow" | "deny", reason: string, log: RequestLine, changes = sql`NULL`) {
    return sql`SELECT dazzle_log_decision(${this.spec.name}, ${op}, ${entityId}::uuid, ${decision}, ${reason}, ${log.method}, ${log.path}, ${changes}::jsonb)`;
  }

  /**
   * A denial, logged in a short transaction of its own after the failed one. The HTTP answer does
   * not depend on it: a failure to log is reported on stderr (its SQLSTATE only) and swallowed.
   */
  private async logDenial(database: Database, caller: Caller, op: Operation, entityId: string | null, reason: DenyReason, log: RequestLine): Promise<void> {
    try {
      await withCaller(database, caller, (trx) => this.decision(op, entityId, "deny", reason, log).execute(trx));
    } catch (error) {
      console.error(`audit log: the denied ${op} of ${this.spec.name} (${reason}) was not recorded: ${sqlState(error) ?? String(error)}`);
    }
  }

  /**
   * `{column: {old, new}}` of the columns an update changes, computed by PostgreSQL over the two
   * would-be rows (so values compare and print as the database stores them); a sensitive column's
   * old and new values are "[redacted]", as in event payloads (DSL.md §4.4). `{}` when none changed.
   */
  private fieldChanges(before: Row<T>, after: Candidate<T>) {
    const image = (candidate: Candidate<T>) => sql`(SELECT to_jsonb(${sql.id(this.spec.table)}) AS j FROM ${this.wouldBeRow(candidate)})`;
    return sql`(SELECT coalesce(jsonb_object_agg(n.key, CASE WHEN n.key = ANY (${[...(this.spec.sensitive ?? [])]}::text[])
        THEN jsonb_build_object('old', ${REDACTED}::text, 'new', ${REDACTED}::text)
        ELSE jsonb_build_object('old', o.value, 'new', n.value) END), '{}')
      FROM ${image(this.asValues(before))} AS dz_old, ${image(after)} AS dz_new, jsonb_each(dz_new.j) AS n, jsonb_each(dz_old.j) AS o
      WHERE o.key = n.key AND n.value IS DISTINCT FROM o.value)`;
  }

  /** The row with this id if it is in the scope (`forUpdate` locks it for the update). */
  private findRow(trx: Transaction<DB>, id: string, scope: ScopeFilter, forUpdate = false): Promise<Row<T> | undefined> {
    const query = trx.selectFrom(this.table).selectAll().where("id", "=", id).where(inScope(scope));
    return (forUpdate ? query.forUpdate() : query).$castTo<Selectable<DB[T]>>().executeTakeFirst();
  }

  /** The row with this id if it is in the scope, with its computed fields for this caller: what a response shows. */
  private readRow(trx: Transaction<DB>, caller: Caller, id: string, scope: ScopeFilter): Promise<ReadRow<T> | undefined> {
    return this.readQuery(trx, caller, id, scope).executeTakeFirst() as Promise<ReadRow<T> | undefined>;
  }

  /** The row `id` with its computed fields, if it is in `scope` (built on `db`: a transaction, or the app's Kysely to compile). */
  private readQuery(db: Kysely<DB>, caller: Caller, id: string, scope: ScopeFilter) {
    return db
      .selectFrom(this.table)
      .selectAll()
      .$if(this.spec.computed !== undefined, (query) => query.select(this.computedColumns(caller)))
      .where("id", "=", id)
      .where(inScope(scope))
      .$castTo<Selectable<DB[T]>>();
  }

  /**
   * `(<sql>) AS "<name>"` for each computed field (DSL.md §4.8), each aggregate's slot filled with
   * its child's list scope for the caller: FALSE when the caller may not list the child or no
   * scope rule matches, so an aggregate then reads no row (count 0, sum 0, avg/min/max NULL).
   */
  private computedColumns(caller: Caller) {
    return (this.spec.computed ?? []).map((c) => {
      const scopes = c.children.map((child) => childScopeSql(child, caller));
      const text = c.sql.map((part, i) => (i === 0 ? part : scopes[i - 1] + part)).join("");
      return sql.raw<unknown>(text).as(c.name);
    });
  }

  /** The row after a write, if the caller may read it (permit and read scope); undefined otherwise. */
  private readBack(trx: Transaction<DB>, caller: Caller, id: string): Promise<ReadRow<T> | undefined> {
    const access = this.spec.access;
    const scope = permitDenial(access, "read", caller) === null ? scopeFor(access, "read", caller) : null;
    return scope === null ? Promise.resolve(undefined) : this.readRow(trx, caller, id, scope);
  }

  /**
   * Evaluates a scope over a would-be row in PostgreSQL (the create probe and the destination
   * side of an update, DSL.md §6.9): each column is a typed bound parameter, or the column's
   * default when the candidate omits it. Only TRUE passes (NULL fails closed).
   */
  private async probe(trx: Transaction<DB>, scope: ScopeFilter, candidate: Candidate<T>): Promise<boolean> {
    if (scope.sql === "TRUE") return true;
    const query = sql<{ ok: boolean | null }>`SELECT ${inScope(scope)} AS ok FROM ${this.wouldBeRow(candidate)}`;
    const { rows } = await query.execute(trx);
    return rows[0]?.ok === true;
  }

  /** `(SELECT $1::type AS "col", …) AS "<table>"`: the one-row source of every probe. */
  private wouldBeRow(candidate: Candidate<T>) {
    const columns = this.spec.columns.map(({ name, type, absent }) => {
      const value = candidate[name];
      const expression = value === undefined ? sql.raw(absent) : sql`${value}`;
      return sql`${expression}::${sql.raw(type)} AS ${sql.id(name)}`;
    });
    return sql`(SELECT ${sql.join(columns)}) AS ${sql.id(this.spec.table)}`;
  }

  /**
   * The invariants the database cannot check (DSL.md §4.10: time-dependent or reading other
   * rows), evaluated by PostgreSQL over the would-be row before the write. The first one that is
   * FALSE (NULL passes) is a 422 invariant_violation. One that reads other rows is a call of its
   * SECURITY DEFINER helper `dz_inv_…(<row columns>)`: the rows it reads count even when RLS
   * hides them from the caller, and only the boolean comes back.
   */
  private async checkInvariants(trx: Transaction<DB>, candidate: Candidate<T>): Promise<void> {
    const probed = (this.spec.invariants ?? []).filter((i) => i.probe !== undefined);
    if (probed.length === 0) return;
    const tests = probed.map((i, n) => sql`(${sql.raw(i.probe!)}) IS NOT FALSE AS ${sql.id(`i${n}`)}`);
    const { rows } = await sql<Record<string, boolean>>`SELECT ${sql.join(tests)} FROM ${this.wouldBeRow(candidate)}`.execute(trx);
    const failed = probed.find((_, n) => rows[0]?.[`i${n}`] !== true);
    if (failed !== undefined) throw invariantViolation(failed);
  }

  /**
   * DSL.md §4.9, update path: a change of the state field needs an edge from the old value (or
   * `*`) to the new one, exact edges first; it is allowed when some candidate's guards all pass
   * (available to the API, one of its roles, its `requires` fields non-empty on the destination
   * row), else 422 transition_error naming the first failing guard of the first candidate. Each
   * machine (one per state field) is checked in declaration order; the first that refuses answers.
   */
  private checkTransition(caller: Caller, before: Row<T>, after: Candidate<T>): void {
    for (const machine of this.spec.stateMachines ?? []) this.checkMachine(machine, caller, before, after);
  }

  private checkMachine(machine: StateMachineSpec, caller: Caller, before: Row<T>, after: Candidate<T>): void {
    const from = (before as Record<string, unknown>)[machine.column] as string | null;
    const to = (after as Record<string, unknown>)[machine.column] as string | null;
    if (from === to) return;
    const where = { field: machine.field, from, to };
    const candidates = machine.transitions.filter((t) => t.to === to && (t.from === null || t.from === from));
    if (candidates.length === 0) throw new HttpError(422, "transition_error", "invalid transition", undefined, undefined, where);
    const failures = candidates.map((t) => transitionFailure(t, caller, after as Record<string, unknown>));
    if (failures.some((f) => f === null)) return;
    const first = failures[0]!;
    throw new HttpError(422, "transition_error", first.message, undefined, undefined, { ...where, guard: first.guard });
  }

  /**
   * A row read back as values a probe can bind like a validator's output: jsonb columns as their
   * JSON text (node-postgres would bind a JS array as a PostgreSQL array and a string as text).
   */
  private asValues(row: Row<T>): Candidate<T> {
    const values: Record<string, unknown> = { ...row };
    for (const { name, type } of this.spec.columns) {
      if (type === "jsonb" && values[name] !== null && values[name] !== undefined) values[name] = JSON.stringify(values[name]);
    }
    return values as Candidate<T>;
  }

  /** INSERT without RETURNING; RLS `WITH CHECK` failures (42501) are create-scope denials. */
  private async insertRow(trx: Transaction<DB>, values: Insertable<DB[T]> & { id: string }): Promise<void> {
    try {
      await trx.insertInto(this.table).values(values).execute();
    } catch (error) {
      if (sqlState(error) === "42501") throw this.createDenied("scope_create_denied");
      throw this.writeError(error);
    }
  }

  /** UPDATE within the update scope; RLS `WITH CHECK` failures (42501) answer 404 like the probe. */
  private async updateRow(trx: Transaction<DB>, id: string, scope: ScopeFilter, changes: Updateable<DB[T]>): Promise<void> {
    try {
      const result = await trx.updateTable(this.table).set(changes).where("id", "=", id).where(inScope(scope)).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw this.notFound("out_of_scope");
    } catch (error) {
      if (sqlState(error) === "42501") throw this.notFound("out_of_scope");
      throw this.writeError(error);
    }
  }

  /** A foreign-key or unique violation of a write names a field: 422 on it (DSL.md §6.9); anything else is rethrown. */
  private writeError(error: unknown): unknown {
    const state = sqlState(error);
    const constraint = typeof error === "object" && error !== null && "constraint" in error ? error.constraint : undefined;
    const issue =
      typeof constraint === "string" && Object.hasOwn(this.spec.constraints, constraint)
        ? this.spec.constraints[constraint]
        : undefined;
    if ((state === "23503" || state === "23505") && issue !== undefined) {
      return new HttpError(422, "validation_error", `invalid request body: ${issue.field}`, [issue]);
    }
    const invariant = state === "23514" ? this.spec.invariants?.find((i) => i.constraint !== undefined && i.constraint === constraint) : undefined;
    if (invariant !== undefined) return invariantViolation(invariant);
    return error;
  }

  /** 404: the row is not in the caller's scope (`reason`: no scope rule matched, or the row is outside it). */
  private notFound(reason: DenyReason): HttpError {
    return denial(new HttpError(404, "not_found", `${this.spec.name} not found`), reason);
  }

  private createDenied(reason: DenyReason): HttpError {
    const name = this.spec.name;
    return denial(new HttpError(403, "scope_create_denied", `not permitted to create this ${name}`, undefined, `${name}.create.scope`), reason);
  }
}

/** 422 `{type: "invariant_violation", message, code}` (DSL.md §4.10). */
function invariantViolation(invariant: InvariantSpec): HttpError {
  return new HttpError(422, "invariant_violation", invariant.message, undefined, undefined, { code: invariant.code });
}

type TransitionGuard =
  | { readonly kind: "available" }
  | { readonly kind: "role"; readonly roles: readonly string[] }
  | { readonly kind: "requires"; readonly field: string };

/** The first guard of an edge that fails for this caller and destination row, or null when all pass. */
function transitionFailure(
  t: TransitionSpec,
  caller: Caller,
  after: Record<string, unknown>,
): { readonly message: string; readonly guard: TransitionGuard } | null {
  const edge = `${t.from ?? "*"} -> ${t.to}`;
  if (!t.available) {
    return { message: `transition ${edge} is not available to API updates`, guard: { kind: "available" } };
  }
  if (t.roles.length > 0 && !t.roles.some((r) => caller.roles.includes(r))) {
    const roles = t.roles.length === 1 ? `role ${t.roles[0]}` : `one of the roles ${t.roles.join(", ")}`;
    return { message: `transition ${edge} requires ${roles}`, guard: { kind: "role", roles: t.roles } };
  }
  for (const r of t.requires) {
    const value = after[r.column];
    if (value === null || value === undefined || value === "") {
      return { message: `transition ${edge} requires ${r.field}`, guard: { kind: "requires", field: r.field } };
    }
  }
  return null;
}

/** The list scope of an aggregate's child for the caller (its list permit first), as SQL over the subquery's alias. */
function childScopeSql(child: ChildScope, caller: Caller): string {
  if (permitDenial(child.access, "list", caller) !== null) return "FALSE";
  const scope = scopeFor({ ...child.access, scope: child.list === null ? null : { list: child.list } }, "list", caller);
  return scope === null ? "FALSE" : scope.sql;
}

/** A scope filter as a WHERE condition: generator-compiled SQL, never request data. */
function inScope(scope: ScopeFilter) {
  return sql<boolean>`${sql.raw(scope.sql)}`;
}

/** What a `sensitive` value becomes in an audited update's field_changes, as in event payloads. */
const REDACTED = "[redacted]";

/** The path id as the flow parses it, or null when it is not a uuid (the 404 before any decision). */
function idOrNull(raw: string): string | null {
  try {
    return parseId(raw);
  } catch {
    return null;
  }
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
function sqlState(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
