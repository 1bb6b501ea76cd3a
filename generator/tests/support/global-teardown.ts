/** jest globalTeardown: stop and delete the embedded cluster global-setup.ts may have started. */
import { promises as fs } from "node:fs";
import type { TestPgState } from "./global-setup";

export default async function globalTeardown(): Promise<void> {
  const state: TestPgState | undefined = globalThis.__DAZZLE_TEST_PG__;
  globalThis.__DAZZLE_TEST_PG__ = undefined;
  if (!state || state.source !== "embedded") return;
  try {
    await state.embedded?.stop();
  } finally {
    if (state.tempDir) await fs.rm(state.tempDir, { recursive: true, force: true });
  }
}
