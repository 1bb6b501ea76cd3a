/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/generator"],
  testMatch: ["**/tests/**/*.test.ts"],
  transform: { "^.+\\.tsx?$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  globalSetup: "<rootDir>/generator/tests/support/global-setup.ts",
  globalTeardown: "<rootDir>/generator/tests/support/global-teardown.ts",
  testTimeout: 30000,
  maxWorkers: 2,
};
