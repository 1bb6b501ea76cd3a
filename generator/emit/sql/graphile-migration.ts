/**
 * A committed graphile-migrate migration: `--! Previous/Hash/Message` headers, a blank line, then
 * the trimmed body and one newline. The hash matches graphile-migrate 1.4.1 (`dist/hash.js`
 * `calculateHash` over the body its parser extracts), so `graphile-migrate migrate` accepts the file.
 */
import { createHash } from "node:crypto";

export interface GraphileMigration {
  readonly contents: string;
  /** `sha1:<hex>`; the `Previous` of the next migration. */
  readonly hash: string;
}

export function graphileMigration(
  body: string,
  previousHash: string | null,
  message: string,
): GraphileMigration {
  if (/[\r\n]/.test(message)) throw new Error("migration message must be one line");
  const trimmed = body.trim();
  const digest = createHash("sha1")
    .update(((previousHash ?? "") + "\n" + trimmed).trim() + "\n")
    .digest("hex");
  const hash = `sha1:${digest}`;
  const headers = [`--! Previous: ${previousHash ?? "-"}`, `--! Hash: ${hash}`, `--! Message: ${message}`];
  return { contents: `${headers.join("\n")}\n\n${trimmed}\n`, hash };
}
