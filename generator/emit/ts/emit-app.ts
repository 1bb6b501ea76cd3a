/**
 * `src/generated/app.ts`: `buildApp(database, config)` wires the middleware, every exposed
 * entity's router (in entity order, at `/api/<route>`), the event stream and the custom routes.
 */
import type { AppIR, EntityIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../types";
import { camelCase, createProject, entityDir, renderSource, str } from "./common";

export const APP_PATH = "src/generated/app.ts";

/** Names imported or declared in app.ts, which an entity's module alias must not take. */
const RESERVED = new Set([
  "express",
  "authenticate",
  "errorHandler",
  "notFoundHandler",
  "eventsRouter",
  "registerRoutes",
  "buildApp",
  "EVENT_AUTHORIZERS",
  "Config",
  "Database",
  "EventAuthorizers",
]);

/** `import * as <alias> from "./<dir>/routes"`: `taskRoutes`, `lineItemRoutes`. */
export function routesAlias(entity: EntityIR, taken: Set<string>): string {
  let alias = `${camelCase(entityDir(entity))}Routes`;
  while (RESERVED.has(alias) || taken.has(alias)) alias = `${alias}_`;
  taken.add(alias);
  return alias;
}

export function emitApp(app: AppIR, ctx: EmitContext): GeneratedFile {
  const taken = new Set<string>();
  const exposed = app.entities
    .filter((e) => e.access.exposed)
    .map((e) => ({ entity: e, alias: routesAlias(e, taken) }));

  const contents = renderSource(
    createProject(),
    APP_PATH,
    ctx,
    `The Express application of ${app.title}: middleware, entity routes, events, custom routes.`,
    (file) => {
      file.addImportDeclarations([
        { moduleSpecifier: "express", defaultImport: "express" },
        { moduleSpecifier: "../custom", namedImports: ["registerRoutes"] },
        { moduleSpecifier: "./runtime/auth", namedImports: ["authenticate"] },
        { isTypeOnly: true, moduleSpecifier: "./runtime/config", namedImports: ["Config"] },
        { isTypeOnly: true, moduleSpecifier: "./runtime/database", namedImports: ["Database"] },
        { moduleSpecifier: "./runtime/errors", namedImports: ["errorHandler", "notFoundHandler"] },
        { moduleSpecifier: "./runtime/events", namedImports: ["eventsRouter", { name: "EventAuthorizers", isTypeOnly: true }] },
        ...exposed.map(({ entity, alias }) => ({
          moduleSpecifier: `./${entityDir(entity)}/routes`,
          namespaceImport: alias,
        })),
      ]);

      file.addVariableStatement({
        docs: [
          "Event authorizers by entity name: an event is delivered only to callers who may list its row",
          "(DESIGN.md §2.3); events of entities without routes reach no one.",
        ],
        name: "EVENT_AUTHORIZERS",
        type: "EventAuthorizers",
        initializer: (w) => {
          if (exposed.length === 0) {
            w.write("{}");
            return;
          }
          w.write("{").newLine();
          w.indent(() => {
            for (const { entity, alias } of exposed) w.writeLine(`${entity.name}: ${alias}.authorizeEvent,`);
          });
          w.write("}");
        },
      });

      file.addFunction({
        isExported: true,
        name: "buildApp",
        docs: ["The app, ready to listen. The order matters: handlers registered later see only unmatched requests."],
        parameters: [
          { name: "database", type: "Database" },
          { name: "config", type: "Config" },
        ],
        returnType: "express.Express",
        statements: (w) => {
          w.writeLine("const app = express();");
          w.writeLine('app.disable("x-powered-by");');
          w.writeLine("// Health first: it needs no credentials, so not even a bad token can fail it.");
          w.writeLine('app.get("/api/health", (_req, res) => {');
          w.writeLine('  res.json({ status: "ok" });');
          w.writeLine("});");
          w.writeLine('app.use(express.json({ limit: "1mb" }));');
          w.writeLine("app.use(authenticate(config.jwtSecret));");
          for (const { entity, alias } of exposed) {
            w.writeLine(`app.use(${str(`/api/${entity.route}`)}, ${alias}.router(database));`);
          }
          w.writeLine('app.use("/api/events", eventsRouter(database, EVENT_AUTHORIZERS));');
          w.writeLine("registerRoutes(app, database);");
          w.writeLine("app.use(notFoundHandler());");
          w.writeLine("app.use(errorHandler());");
          w.writeLine("return app;");
        },
      });
    },
  );
  return { path: APP_PATH, contents, owner: "generator" };
}
