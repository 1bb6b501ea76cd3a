/**
 * runtime/event-position.ts: the position an event stream writes as each event's SSE id and
 * resumes from (`Last-Event-ID`), exactly — holes from out-of-order commits, filled and aged out
 * (HOLE_WINDOW, MAX_HOLES), and the strict parser. The stream end to end is in
 * e2e/events-order.test.ts.
 */
import { HOLE_WINDOW, MAX_HOLES, StreamPosition } from "../../../templates/app/src/generated/runtime/event-position";

/** The ids after passing each seq in turn, from a fresh stream at `lastSeq`. */
function ids(lastSeq: bigint | null, seqs: readonly number[]): string[] {
  const position = StreamPosition.at(lastSeq);
  return seqs.map((seq) => {
    position.pass(String(seq));
    return position.toString();
  });
}

/** "a,a+1,…,b" */
const run = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i).join(",");

test("the bounds are the documented constants", () => {
  expect([HOLE_WINDOW, MAX_HOLES]).toEqual([1000n, 32]);
});

test("in seq order the id is the seq; a seq skipped is a hole until it is passed; repeats and older seqs change nothing", () => {
  expect(ids(10n, [11, 12, 14, 13, 13, 14, 9, 15])).toEqual(["11", "12", "14:13", "14", "14", "14", "14", "15"]);
});

test("holes are listed ascending and filled in any order", () => {
  expect(ids(10n, [14, 12, 16, 11, 15, 13])).toEqual(["14:11,12,13", "14:11,13", "16:11,13,15", "16:13,15", "16:13", "16"]);
});

test("a stream that opened before the hub's first read starts at its first event, without holes", () => {
  expect(ids(null, [7, 9, 8])).toEqual(["7", "9:8", "9"]);
});

test(`a hole more than ${HOLE_WINDOW} below the highest seq ages out`, () => {
  const position = StreamPosition.at(0n);
  position.pass("2");
  for (let seq = 3; seq <= 1001; seq++) position.pass(String(seq));
  expect(position.toString()).toBe("1001:1");
  position.pass("1002");
  expect(position.toString()).toBe("1002");
  // Once aged out, its late event no longer changes the position.
  position.pass("1");
  expect(position.toString()).toBe("1002");
});

test(`only the ${MAX_HOLES} highest holes are kept`, () => {
  expect(ids(0n, [40, 41, 43, 20])).toEqual([`40:${run(8, 39)}`, `41:${run(8, 39)}`, `43:${run(9, 39)},42`, `43:${run(9, 19)},${run(21, 39)},42`]);
});

test("a jump of millions of seqs keeps only the holes within the bounds", () => {
  expect(ids(5n, [5_000_000])).toEqual([`5000000:${run(4_999_968, 4_999_999)}`]);
  expect(ids(5n, [20])).toEqual([`20:${run(6, 19)}`]);
});

test("covers: at or below the highest seq and not a hole", () => {
  const position = StreamPosition.at(10n);
  position.pass("14");
  position.pass("12");
  expect(["9", "10", "11", "12", "13", "14", "15"].map((s) => position.covers(s))).toEqual([true, true, false, true, false, true, false]);
  expect(StreamPosition.at(null).covers("1")).toBe(false);
});

test("parse reads back what toString writes; a resume replays the holes and what is above the seq", () => {
  const parsed = StreamPosition.parse("14:11,13")!;
  expect([parsed.toString(), parsed.after, parsed.missing]).toEqual(["14:11,13", "14", ["11", "13"]]);
  expect([StreamPosition.parse("0")!.toString(), StreamPosition.parse("9223372036854775807")!.after]).toEqual(["0", "9223372036854775807"]);
  // The resumed stream goes on from there.
  parsed.pass("13");
  parsed.pass("16");
  expect(parsed.toString()).toBe("16:11,15");
});

test("parse drops holes out of bounds and copies are independent", () => {
  expect(StreamPosition.parse("2000:5,999,1000,1999")!.toString()).toBe("2000:1000,1999");
  const original = StreamPosition.parse("14:11")!;
  const copy = original.copy();
  copy.pass("11");
  expect([original.toString(), copy.toString()]).toEqual(["14:11", "14"]);
});

test("parse rejects anything but <seq> or <seq>:<ascending holes below it>, bounded", () => {
  const holes = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1)).join(",");
  expect(StreamPosition.parse(`100:${holes(MAX_HOLES)}`)?.missing.length).toBe(MAX_HOLES);
  const bad = ["", "x", "-1", "1.5", " 12", "12 ", "12:", "12:,11", "12:11,", "12:12", "12:13", "12:11,3", "12:3,3", "12;11", "12:11:10", "1e3", "9223372036854775808", "12345678901234567890", `100:${holes(MAX_HOLES + 1)}`];
  expect(bad.filter((raw) => StreamPosition.parse(raw) !== null)).toEqual([]);
});
