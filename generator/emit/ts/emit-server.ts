/** `src/server.ts`: the entry point — `serve(buildApp)` (embedded PostgreSQL, migrations, listen). */
import type { AppIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, renderSource } from "./common";

export const SERVER_PATH = "src/server.ts";

export function emitServer(app: AppIR, ctx: EmitContext): GeneratedFile {
  const contents = renderSource(createProject(), SERVER_PATH, ctx, `Starts the ${app.title} API server.`, (file) => {
    file.addImportDeclarations([
      { moduleSpecifier: "./generated/app", namedImports: ["buildApp"] },
      { moduleSpecifier: "./generated/runtime/serve", namedImports: ["serve"] },
    ]);
    file.addStatements([
      "serve(buildApp).catch((error: unknown) => {",
      "  console.error(error);",
      "  process.exitCode = 1;",
      "});",
    ]);
  });
  return { path: SERVER_PATH, contents, owner: "generator" };
}
