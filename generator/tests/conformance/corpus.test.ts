/**
 * Conformance against the specs written for the original Dazzle (`../shared/corpus`): every
 * valid project and file is accepted with zero errors, every invalid file is rejected with the
 * diagnostic that names its actual mistake, and nothing makes the front end throw.
 */
import path from "node:path";
import { analyze } from "../../compile";
import { hasErrors } from "../../diagnostics/diagnostic";
import { readProject } from "../../read-project";
import { CORPUS_DIR, corpusFiles, corpusPresent, corpusProjects, singleFileInput, skipMessage } from "../support/corpus";

const maybe = corpusPresent ? describe : describe.skip;
if (!corpusPresent) console.warn(skipMessage());

const projects = [...corpusProjects("examples"), ...corpusProjects("fixtures")];
const validFiles = [...corpusFiles("tests/corpora/appspec/valid"), ...corpusFiles("tests/corpora/streamspec/valid"), ...corpusFiles("tests/fixtures")];
const rel = (p: string) => path.relative(CORPUS_DIR, p);

/** The first error of each invalid file: the mistake the file was written to contain. */
const EXPECTED_INVALID: Record<string, { code: string; line: number; column: number } | "accepted"> = {
  "tests/corpora/appspec/invalid/duplicate_entity_name.dsl": { code: "DZ1005", line: 6, column: 12 },
  "tests/corpora/appspec/invalid/invalid_enum_value.dsl": { code: "DZ1004", line: 9, column: 19 },
  "tests/corpora/appspec/invalid/llm_invalid_provider.dsl": "accepted",
  "tests/corpora/appspec/invalid/missing_required_field.dsl": { code: "DZ1005", line: 6, column: 19 },
  "tests/corpora/appspec/invalid/syntax_unexpected_token.dsl": { code: "DZ1005", line: 6, column: 19 },
  "tests/corpora/appspec/invalid/unknown_keyword.dsl": { code: "DZ1010", line: 8, column: 9 },
  "tests/corpora/streamspec/invalid/missing_kind.dsl": "accepted",
  "tests/corpora/streamspec/invalid/missing_ordering_scope.dsl": "accepted",
  "tests/corpora/streamspec/invalid/missing_partition_key.dsl": "accepted",
  "tests/corpora/streamspec/invalid/missing_t_event.dsl": "accepted",
  "tests/corpora/streamspec/invalid/unknown_kind.dsl": "accepted",
  "tests/unit/fuzz_seeds/lexer-unicode-superscript-digit.dsl": { code: "DZ1001", line: 4, column: 12 },
};

maybe("corpus conformance", () => {
  const counts = { projects: 0, validFiles: 0, invalidRejected: 0, invalidAccepted: 0 };
  afterAll(() => {
    console.log(
      `corpus: ${counts.projects}/${projects.length} projects and ${counts.validFiles}/${validFiles.length} valid files accepted; ` +
        `${counts.invalidRejected} invalid files rejected, ${counts.invalidAccepted} accepted with warnings as DSL.md §3.3 prescribes`,
    );
  });

  test.each(projects.map((p) => [rel(p), p]))("project %s is accepted with zero errors", (_name, dir) => {
    const result = analyze(readProject(dir));
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.ir).not.toBeNull();
    counts.projects++;
  });

  test.each(validFiles.map((f) => [rel(f), f]))("valid file %s is accepted with zero errors", (_name, file) => {
    const result = analyze(singleFileInput(file));
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    counts.validFiles++;
  });

  test.each(Object.entries(EXPECTED_INVALID))("invalid file %s gets its diagnostic", (name, expected) => {
    const result = analyze(singleFileInput(path.join(CORPUS_DIR, name)));
    if (expected === "accepted") {
      expect(hasErrors(result.diagnostics)).toBe(false);
      expect(result.diagnostics.map((d) => d.code)).toContain("DZ1901");
      counts.invalidAccepted++;
      return;
    }
    const first = result.diagnostics.find((d) => d.severity === "error");
    expect({ code: first?.code, line: first?.span?.start.line, column: first?.span?.start.column }).toEqual(expected);
    counts.invalidRejected++;
  });

  test("every invalid corpus file has an expectation", () => {
    const invalid = [...corpusFiles("tests/corpora/appspec/invalid"), ...corpusFiles("tests/corpora/streamspec/invalid")].map(rel);
    expect(invalid.filter((f) => !(f in EXPECTED_INVALID))).toEqual([]);
  });

  test("every corpus file is read without a crash", () => {
    for (const file of corpusFiles("")) expect(() => analyze(singleFileInput(file))).not.toThrow();
  });
});
