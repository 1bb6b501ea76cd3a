/**
 * Where an event stream stands in the feed: the SSE `id:` written with each event, and what a
 * client resumes from with `Last-Event-ID`.
 *
 * Seqs are taken when a trigger inserts the event, but transactions commit in any order: seq 11
 * can reach a stream while seq 10 is still uncommitted. A position is therefore not one seq but
 * `maxSeq` (the highest seq the stream has passed — written or withheld by authorization, every
 * event the hub handed it counts) plus its `holes`: the seqs below `maxSeq` not passed yet. It is
 * written as `<maxSeq>` without holes, else `<maxSeq>:<h1>,<h2>,…` (ascending); a resume replays
 * the holes that exist by then and everything above `maxSeq`.
 *
 * Holes are bounded: only those at most HOLE_WINDOW below `maxSeq`, and of those the MAX_HOLES
 * highest, are kept. A rolled-back insert leaves a hole that never fills; it ages out. So an event
 * whose transaction commits more than that far behind can still be missed by a resume (live, it
 * is delivered all the same).
 */

/** How far below `maxSeq` a hole is kept. */
export const HOLE_WINDOW = 1_000n;
/** How many holes are kept at most (the highest). */
export const MAX_HOLES = 32;

/** `<seq>` or `<seq>:<seq>,…`: 1 to 19 digits each, at most MAX_HOLES holes. */
const POSITION = new RegExp(`^([0-9]{1,19})(?::([0-9]{1,19}(?:,[0-9]{1,19}){0,${MAX_HOLES - 1}}))?$`);
/** The largest bigint: seqs above it would fail in the database. */
const MAX_SEQ = 9_223_372_036_854_775_807n;

export class StreamPosition {
  private constructor(
    /** Null until the stream passes its first event (it opened before the hub's first read). */
    private maxSeq: bigint | null,
    /** Ascending, all below `maxSeq`, within the bounds. */
    private holes: bigint[],
  ) {}

  /** A fresh stream's position: everything up to `lastSeq` (the hub's last handed-out seq) is behind it. */
  static at(lastSeq: bigint | null): StreamPosition {
    return new StreamPosition(lastSeq, []);
  }

  /**
   * A `Last-Event-ID`, or null if it is not a position this module writes (a bigint, holes
   * strictly ascending and below it). Holes out of bounds are dropped.
   */
  static parse(raw: string): StreamPosition | null {
    const match = POSITION.exec(raw);
    if (match === null) return null;
    const maxSeq = BigInt(match[1]!);
    const holes = match[2] === undefined ? [] : match[2].split(",").map(BigInt);
    if (maxSeq > MAX_SEQ || holes.some((h, i) => h >= maxSeq || (i > 0 && h <= holes[i - 1]!))) return null;
    const position = new StreamPosition(maxSeq, holes);
    position.bound();
    return position;
  }

  /** The highest seq passed; a resume replays what is above it. */
  get after(): string | null {
    return this.maxSeq === null ? null : this.maxSeq.toString();
  }

  /** The holes, ascending; a resume replays those that exist by then. */
  get missing(): string[] {
    return this.holes.map(String);
  }

  copy(): StreamPosition {
    return new StreamPosition(this.maxSeq, [...this.holes]);
  }

  /** Whether the stream has passed `seq` (at or below `maxSeq` and not a hole). */
  covers(seq: string): boolean {
    const value = BigInt(seq);
    return this.maxSeq !== null && value <= this.maxSeq && !this.holes.includes(value);
  }

  /** The stream has been handed the event `seq`: above `maxSeq` the seqs skipped become holes; below, it fills one. */
  pass(seq: string): void {
    const value = BigInt(seq);
    if (this.maxSeq === null) this.maxSeq = value;
    else if (value < this.maxSeq) this.holes = this.holes.filter((h) => h !== value);
    else if (value > this.maxSeq) {
      // Only the skipped seqs that can survive the bounds, so a jump of millions costs nothing.
      let from = this.maxSeq + 1n;
      for (const floor of [value - HOLE_WINDOW, value - BigInt(MAX_HOLES)]) if (floor > from) from = floor;
      for (let h = from; h < value; h++) this.holes.push(h);
      this.maxSeq = value;
      this.bound();
    }
  }

  /** The SSE id: `<maxSeq>` or `<maxSeq>:<h1>,<h2>,…`. */
  toString(): string {
    const max = this.maxSeq === null ? "0" : this.maxSeq.toString();
    return this.holes.length === 0 ? max : `${max}:${this.holes.join(",")}`;
  }

  /** Drops the holes more than HOLE_WINDOW below `maxSeq`, then all but the MAX_HOLES highest. */
  private bound(): void {
    const floor = this.maxSeq! - HOLE_WINDOW;
    this.holes = this.holes.filter((h) => h >= floor).slice(-MAX_HOLES);
  }
}
