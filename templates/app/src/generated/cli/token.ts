/**
 * `npm run token -- --user <uuid> [--role <role>]… [--expires <duration>]`
 * Prints a bearer token signed with the app's JWT secret (DAZZLE_JWT_SECRET, or in development
 * `.dazzle/jwt-secret`). Use it as `Authorization: Bearer <token>`.
 */
import { parseArgs } from "node:util";
import { mintToken } from "../runtime/auth";
import { loadConfig } from "../runtime/config";

const USAGE = "usage: npm run token -- --user <uuid> [--role <role>]... [--expires <duration, default 24h; 'never'>]";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: "string" },
      role: { type: "string", multiple: true, default: [] },
      expires: { type: "string", default: "24h" },
    },
  });
  const { user, role: roles, expires } = values;
  if (user === undefined || !UUID.test(user)) throw new Error("--user must be a uuid (the principal's id)");
  const badRole = roles.find((role) => !ROLE.test(role));
  if (badRole !== undefined) throw new Error(`--role '${badRole}' is not a role name`);
  const { jwtSecret } = loadConfig();
  const expiresIn = expires === "never" ? undefined : expires;
  console.log(await mintToken(jwtSecret, { userId: user.toLowerCase(), roles, expiresIn }));
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(1);
});
