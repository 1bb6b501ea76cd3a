/**
 * The TypeScript half of the generated app (GENERATED-APP.md): db.ts, context.ts, validation.ts,
 * app.ts, server.ts and, per exposed entity, access.ts, validate.ts and routes.ts. Pure: the IR
 * in, files out, sorted by path; the runtime templates are copied by another emitter.
 */
import type { AppIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../types";
import { byCodeUnit } from "../types";
import { createProject, printSource } from "./common";
import { emitAccess } from "./emit-access";
import { emitApp } from "./emit-app";
import { emitContext } from "./emit-context";
import { emitDbTypes } from "./emit-db-types";
import { emitRbacTest } from "./emit-rbac-test";
import { emitRoutes } from "./emit-routes";
import { emitServer } from "./emit-server";
import { emitValidators } from "./emit-validators";
import { VALIDATION_PATH, VALIDATION_SOURCE } from "./validation-module";

export function emitValidationModule(ctx: EmitContext): GeneratedFile {
  const contents = printSource(createProject(), VALIDATION_PATH, ctx, null, VALIDATION_SOURCE);
  return { path: VALIDATION_PATH, contents, owner: "generator" };
}

export function emitTypeScript(app: AppIR, ctx: EmitContext): GeneratedFile[] {
  const files: GeneratedFile[] = [
    emitDbTypes(app, ctx),
    emitContext(app, ctx),
    emitValidationModule(ctx),
    emitApp(app, ctx),
    emitServer(app, ctx),
    ...emitRbacTest(app, ctx),
  ];
  // Entities without permit/forbid rules are default-deny: no routes, so no modules (DSL.md §6.2).
  for (const entity of app.entities.filter((e) => e.access.exposed)) {
    files.push(emitAccess(app, entity, ctx), emitValidators(app, entity, ctx), emitRoutes(app, entity, ctx));
  }
  return files.sort((a, b) => byCodeUnit(a.path, b.path));
}
