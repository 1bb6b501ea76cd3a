/**
 * The golden SQL of each kind of follow-up migration step (fixtures/migrations-steps/, see
 * support/migration-steps.ts): regenerating an app from `before.dz` with `after.dz` commits
 * exactly one new migration, equal to `expected.sql` (`npm run fixtures:accept -- migrations-steps`
 * rewrites them; read the diff). How the steps behave on a real database is
 * e2e/migrations-evolution.test.ts's business.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { addedMigration, listMigrationStepCases, MIGRATION_STEP_GOLDEN, runMigrationStep } from "../support/migration-steps";

const cases = listMigrationStepCases();

test("a golden for every kind of step the issue lists", () => {
  expect(cases.map((c) => c.name)).toEqual(
    expect.arrayContaining([
      "add-enum-value",
      "add-index-unique",
      "default-change",
      "drop-index",
      "narrow-type",
      "new-entity",
      "new-nullable-field",
      "new-required-field-with-default",
      "policy-change",
      "rename-entity",
      "rename-field",
      "widen-type",
    ]),
  );
  expect(cases.filter((c) => !existsSync(path.join(c.dir, MIGRATION_STEP_GOLDEN))).map((c) => c.name)).toEqual([]);
});

describe.each(cases)("migration step $name", (c) => {
  test("commits exactly the expected migration", async () => {
    const run = await runMigrationStep(c);
    expect({ exitCode: run.exitCode, errors: run.stderr.split("\n").filter((l) => l.startsWith("error")) }).toEqual({ exitCode: 0, errors: [] });
    expect(addedMigration(run)).toBe(readFileSync(path.join(c.dir, MIGRATION_STEP_GOLDEN), "utf8"));
  });
});
