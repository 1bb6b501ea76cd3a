/**
 * `npm run fuzz -- [--count N] [--seed S] [--case C ...]`: the front-end mutation fuzzer
 * (generator/tests/support/fuzz.ts) for long runs. Prints the rate and every failure with its
 * saved input; exits 1 when a case failed, 2 on bad arguments.
 */
import { describeFailure, fuzz, KNOWN_PROBLEMS } from "../generator/tests/support/fuzz";

function parseArgs(argv: readonly string[]): { count: number; seed: number; cases: number[] } {
  const args = { count: 1000, seed: 1, cases: [] as number[] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (!["--count", "--seed", "--case"].includes(flag)) throw new Error(`unknown option ${flag}`);
    const value = Number(argv[++i]);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${flag} needs a whole number`);
    if (flag === "--count") args.count = value;
    else if (flag === "--seed") args.seed = value;
    else args.cases.push(value);
  }
  return args;
}

function run(): number {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\nusage: npm run fuzz -- [--count N] [--seed S] [--case C ...]\n`);
    return 2;
  }
  const report = fuzz({ runSeed: args.seed, count: args.count, ...(args.cases.length > 0 ? { caseSeeds: args.cases } : {}) });
  for (const f of report.failures) process.stderr.write(describeFailure(report.runSeed, f));
  report.known.forEach((n, i) => {
    if (n > 0) process.stdout.write(`known problem hit by ${n} case(s), not counted as failures: ${KNOWN_PROBLEMS[i]!.what}\n`);
  });
  const rate = Math.round(report.cases / (report.ms / 1000));
  process.stdout.write(
    `fuzz: ${report.cases} cases from ${report.seedFiles} seed files, seed ${report.runSeed}, ` +
      `${(report.ms / 1000).toFixed(1)} s (${rate} cases/s), ${report.failures.length} failure(s)\n`,
  );
  return report.failures.length > 0 ? 1 : 0;
}

process.exitCode = run();
