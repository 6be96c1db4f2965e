// What both chaos runners (run.mjs, cluster.mjs) share: their numeric
// flags, the seeded generator that makes a run repeatable, and the count of
// what arrived against what was sent.

/** `text` as a positive integer, or exit 2 with a message prefixed by `tool`. */
export function positiveInteger(tool, name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`${tool}: ${name} must be a positive integer, got ${text}`);
    process.exit(2);
  }
  return value;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with --seed. */
export function seededRandom(state) {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts what `arrived` (in order) did with the numbers first..first+expected-1. */
export function compare(arrived, expected, first) {
  const seen = new Set();
  let duplicated = 0;
  let reordered = 0;
  let highest = -Infinity;
  for (const n of arrived) {
    if (seen.has(n)) {
      duplicated += 1;
      continue;
    }
    seen.add(n);
    if (n < highest) reordered += 1;
    highest = Math.max(highest, n);
  }
  let delivered = 0;
  for (let n = first; n < first + expected; n++) if (seen.has(n)) delivered += 1;
  return { delivered, lost: expected - delivered, duplicated, reordered };
}
