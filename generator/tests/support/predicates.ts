/** Predicate IR values shared by unit tests of the SQL compiler and its users. */
import type { PathCheck } from "../../ir/ir";

/** `invoice.project.org = current_user.org`: a two-hop FK path compared with a principal attribute. */
export const ORG_PATH = {
  kind: "path",
  hops: [
    { column: "invoice", table: "invoice" },
    { column: "project", table: "project" },
  ],
  column: "org",
  sqlType: "uuid",
  op: "=",
  value: { kind: "userAttr", attr: "org" },
} satisfies PathCheck;
