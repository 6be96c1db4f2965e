// scripts/chaos: the demo transport (release pkg/) in headless Chromium (or
// Firefox, or WebKit, through their WebDriver drivers: --browser) sends
// N messages at a steady rate with at-least-once delivery and the HTTP
// fallback, while the server is made to misbehave on a seeded random
// schedule: abrupt drops, whole-server outages (at least two), dead links
// that lose frames both ways without closing, upgrades refused long enough to
// force the fallback, failing POSTs and dropped event streams. The server also pushes a numbered stream the whole time. At the end
// what the server received is compared with what was sent (and what the page
// received with what the server sent), one line each:
//
//   chaos: sent=N delivered=N lost=0 duplicated=0 reordered=0 drops=K fallbacks=F
//   chaos: server→client sent=S delivered=S lost=0 duplicated=0 reordered=0 pushes=P replies=R
//
// Exit status 1 if anything was lost, duplicated or reordered, or if the run
// did not exercise what it claims (no outage, no fallback).
//
// node e2e/chaos/run.mjs [--messages N] [--rate PER_SECOND] [--seed S] [--delivery at-most-once]
//                        [--browser chromium|firefox|webkit] [--proxy NAME]
//
// --proxy puts one of e2e/proxies.mjs's reverse proxies at its defaults in
// front of the server ("nginx (WebSocket-aware)", "nginx (plain proxy_pass)",
// haproxy, caddy, …): the page is served through it, so every socket, POST
// and event stream is too.
import { parseArgs } from "node:util";
import { json, launchChromium, startServer } from "../support.mjs";
import { BROWSERS, launch } from "../webdriver.mjs";
import { PROXIES, startProxy } from "../proxies.mjs";
import { compare, positiveInteger, seededRandom } from "./tally.mjs";

const { values: flags } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    rate: { type: "string", default: "100" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    // at-most-once shows that the run catches losses: it should fail.
    delivery: { type: "string", default: "at-least-once" },
    browser: { type: "string", default: "chromium" },
    proxy: { type: "string" },
  },
});
if (flags.proxy !== undefined && !(flags.proxy in PROXIES)) {
  console.error(`chaos: --proxy must be one of ${Object.keys(PROXIES).map((name) => JSON.stringify(name)).join(", ")}, got ${flags.proxy}`);
  process.exit(2);
}
if (!BROWSERS.includes(flags.browser)) {
  console.error(`chaos: --browser must be one of ${BROWSERS.join(", ")}, got ${flags.browser}`);
  process.exit(2);
}
if (!["at-least-once", "at-most-once"].includes(flags.delivery)) {
  console.error(`chaos: --delivery must be at-least-once or at-most-once, got ${flags.delivery}`);
  process.exit(2);
}
const messages = positiveInteger("chaos", "--messages", flags.messages);
const rate = positiveInteger("chaos", "--rate", flags.rate);
const seed = positiveInteger("chaos", "--seed", flags.seed);
const sendingMs = (messages / rate) * 1000;
const PUSHES_PER_SECOND = 10;
const SETTLE_MS = 60_000; // after the last fault, for the outbox and the stream to drain

const random = seededRandom(seed);
const between = (low, high) => Math.round(low + random() * (high - low));

// The fault schedule, in ms from the start of sending. It opens with the
// faults the run must contain (a drop, an outage, a dead link, a refusal long
// enough to force the fallback with failing POSTs and a dropped event stream
// inside it, a second outage), then draws more at random until sending ends. Faults do
// not overlap, so each one's effect is its own.
function schedule() {
  const plan = [];
  const kinds = ["drop", "down", "blackhole", "refuse", "down"];
  let at = between(800, 1500);
  while (at < sendingMs - 1000 || kinds.length > 0) {
    const kind = kinds.shift() ?? pick();
    if (kind === "drop") {
      plan.push({ at, kind });
      at += between(700, 2500);
    } else if (kind === "down" || kind === "blackhole") {
      const ms = between(2000, 3500);
      plan.push({ at, kind, ms });
      at += ms + between(1000, 2500);
    } else {
      const ms = between(5000, 7000);
      plan.push({ at, kind: "refuse", ms });
      plan.push({ at: at + between(1500, 2000), kind: "fail-posts", ms: between(800, 1500) });
      plan.push({ at: at + between(3500, 4000), kind: "drop-events" });
      at += ms + between(1500, 3000);
    }
  }
  return plan;
}
function pick() {
  const roll = random();
  return roll < 0.45 ? "drop" : roll < 0.65 ? "down" : roll < 0.85 ? "blackhole" : "refuse";
}

/**
 * The page at `url` in `name`'s browser, as the run uses it: `evaluate(fn,
 * arg)`, `waitFor(fn, what)`, the page's uncaught `errors` (Chromium, through
 * playwright-core; WebDriver has no such event), and `close()`.
 */
async function openPage(name, url) {
  if (name === "chromium") {
    const browser = await launchChromium();
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(url);
    return { evaluate: (fn, arg) => page.evaluate(fn, arg), errors, close: () => browser.close() };
  }
  const browser = await launch(name);
  try {
    const tab = await browser.open(url);
    return { evaluate: (fn, arg) => tab.run(fn, arg), errors: [], close: () => browser.quit() };
  } catch (error) {
    await browser.quit();
    throw error;
  }
}

/** Resolves once `fn()` is true in `page`; rejects after 15 s saying `what`. */
async function waitFor(page, fn, what) {
  const deadline = Date.now() + 15_000;
  while (!(await page.evaluate(fn))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const server = await startServer(["--static-dir", "/chaos=e2e/chaos", "--static-dir", "/pkg=pkg"]);
let proxy = null;
let page = null;
let exitCode = 1;
try {
  proxy = flags.proxy === undefined ? null : await startProxy(flags.proxy, new URL(server.url).host);
  page = await openPage(flags.browser, `${proxy?.url ?? server.url}/chaos/page.html`);
  exitCode = await run(page);
} catch (error) {
  console.error(`chaos: the run itself failed: ${error.stack ?? error}`);
} finally {
  await page?.close();
  await proxy?.stop();
  await server.stop();
}
process.exit(exitCode);

async function run(page) {
  const sessionId = `chaos-${process.pid}-${seed}`;
  const control = (path) => json(`${server.url}/control/${path}`, { method: "POST" });

  // Everything the server received from the session, read page by page
  // (its log keeps only the last 1,000 frames).
  const received = [];
  let lastIndex = 0;
  let lastSeq = 0;
  async function readLog() {
    const response = await fetch(`${server.url}/control/${sessionId}/log?after=${lastIndex}`);
    if (response.status === 404) return; // the session has not reached the server yet
    const log = await response.json();
    for (const frame of log.frames) {
      if (frame.index !== lastIndex + 1) {
        throw new Error(`the server's log moved past frames ${lastIndex + 1}..${frame.index - 1} before they were read`);
      }
      lastIndex = frame.index;
      if (frame.type === "message") received.push(frame);
    }
    lastSeq = log.lastSeq;
  }

  await waitFor(page, () => window.chaos !== undefined, "the page");

  const plan = schedule();
  const pushes = Math.max(1, Math.round((sendingMs / 1000) * PUSHES_PER_SECOND));
  console.log(
    `chaos: ${flags.browser}${flags.proxy ? ` behind ${flags.proxy}` : ""}, ${messages} messages (${flags.delivery}) at ${rate}/s (${(sendingMs / 1000).toFixed(0)} s), ` +
      `${pushes} server pushes, ${plan.length} faults, seed ${seed}`,
  );
  const startedAt = Date.now();
  const elapsed = () => Date.now() - startedAt;
  await page.evaluate((config) => window.chaos.start(config), {
    messages,
    rate,
    sessionId,
    delivery: flags.delivery,
  });
  // The stream starts once the transport is connected: a first connection
  // asks for no replay (PROTOCOL.md §4), so a frame numbered before it would
  // never be the client's to receive.
  await waitFor(page, () => window.chaos.report().state === "connected", "connected");
  await control(`${sessionId}/push?count=${pushes}&interval_ms=${Math.round(1000 / PUSHES_PER_SECOND)}`);

  const faults = { drop: 0, down: 0, blackhole: 0, refuse: 0, "fail-posts": 0, "drop-events": 0 };
  let drops = 0; // connections and event streams cut by a fault
  async function inject(fault) {
    faults[fault.kind] += 1;
    if (fault.kind === "drop") {
      drops += (await control(`${sessionId}/drop`)).affected;
      drops += (await control(`${sessionId}/drop-events`)).affected;
    } else if (fault.kind === "down") {
      drops += (await control(`down?ms=${fault.ms}`)).dropped;
    } else if (fault.kind === "blackhole") {
      // The socket stays open and frames vanish both ways until the heartbeat
      // (or the ack timeout) notices: what a dead network path looks like.
      await control(`${sessionId}/blackhole?ms=${fault.ms}`);
    } else if (fault.kind === "refuse") {
      // Refuse new upgrades, then cut the live socket so the client must ask.
      await control(`${sessionId}/refuse?ms=${fault.ms}`);
      drops += (await control(`${sessionId}/drop`)).affected;
    } else if (fault.kind === "fail-posts") {
      await control(`${sessionId}/fail-posts?ms=${fault.ms}`);
    } else {
      drops += (await control(`${sessionId}/drop-events`)).affected;
    }
  }

  let lastProgress = 0;
  async function progress(force = false) {
    if (!force && elapsed() - lastProgress < 5000) return;
    lastProgress = elapsed();
    const state = await page.evaluate(() => window.chaos.report());
    console.log(
      `  ${(elapsed() / 1000).toFixed(0).padStart(4)} s  sent=${state.sent} acked=${state.acked} ` +
        `server=${received.filter((f) => !f.duplicate).length} pushes=${state.pushCount}/${pushes} ` +
        `${state.state}/${state.mode} queued=${state.queued}`,
    );
    return state;
  }

  // Sending, with the faults on schedule.
  for (const fault of plan) {
    while (elapsed() < fault.at) {
      await readLog();
      await progress();
      await sleep(Math.min(250, fault.at - elapsed()));
    }
    await inject(fault);
  }
  // Draining: faults off, until everything sent is acknowledged and every
  // numbered frame has been delivered, or SETTLE_MS passes without that.
  let report;
  const settleFrom = Date.now();
  for (;;) {
    await readLog();
    report = await page.evaluate(() => window.chaos.report(true));
    const pushesDone = elapsed() > sendingMs + 1000 && report.pushes.length >= pushes;
    const allAnswered = report.sendingDone && report.acked + report.rejected.length + report.notSent.length === messages;
    const streamDrained = new Set(report.seqs).size >= lastSeq;
    if ((allAnswered && pushesDone && streamDrained) || Date.now() - settleFrom > SETTLE_MS + sendingMs) break;
    await progress();
    await sleep(250);
  }
  await readLog();
  await progress(true);

  // Client → server: what the server took in (first copies) against 0..N-1.
  const delivered = received.filter((frame) => !frame.duplicate).map((frame) => frame.data?.n);
  const upstream = compare(delivered, messages, 0);
  const resent = received.length - delivered.length;
  // Server → client: every numbered frame by seq; order checked on the push
  // stream (POST replies may legitimately overtake pushes on the event stream).
  const seqs = compare(report.seqs, lastSeq, 1);
  const pushOrder = compare(report.pushes, pushes, 1);
  const fallbacks = report.modes.filter((mode) => mode === "http").length;

  console.log(
    `chaos: sent=${report.sent} delivered=${upstream.delivered} lost=${upstream.lost} ` +
      `duplicated=${upstream.duplicated} reordered=${upstream.reordered} drops=${drops} fallbacks=${fallbacks}`,
  );
  console.log(
    `chaos: server→client sent=${lastSeq} delivered=${seqs.delivered} lost=${seqs.lost} ` +
      `duplicated=${seqs.duplicated} reordered=${pushOrder.reordered} pushes=${report.pushes.length}/${pushes} ` +
      `replies=${report.echoes}`,
  );
  console.log(
    `       faults: ${Object.entries(faults).map(([kind, count]) => `${kind}=${count}`).join(" ")}; ` +
      `resent-and-suppressed=${resent} client-closes=${report.closes} ` +
      `acked=${report.acked} rejected=${report.rejected.length} in ${(elapsed() / 1000).toFixed(0)} s`,
  );

  const problems = [];
  if (report.sent !== messages) problems.push(`the page sent ${report.sent} of ${messages}`);
  if (upstream.lost || upstream.duplicated || upstream.reordered) {
    problems.push(`client→server lost, duplicated or reordered messages (missing ${missing(delivered, messages, 0)})`);
  }
  if (seqs.lost || seqs.duplicated || pushOrder.lost || pushOrder.duplicated || pushOrder.reordered) {
    problems.push(
      `server→client lost, duplicated or reordered frames (missing seq ${missing(report.seqs, lastSeq, 1)}; ` +
        `missing pushes ${missing(report.pushes, pushes, 1)})`,
    );
  }
  if (report.echoes !== messages) problems.push(`${report.echoes} echo replies for ${messages} messages`);
  if (report.rejected.length || report.notSent.length) {
    problems.push(`sends that failed: ${JSON.stringify([...report.rejected, ...report.notSent].slice(0, 5))}`);
  }
  if (faults.down < 2 || drops === 0 || fallbacks === 0) problems.push("the run did not contain two outages, a drop and a fallback");
  if (page.errors.length) problems.push(`uncaught errors in the page: ${page.errors.slice(0, 3).join("; ")}`);
  for (const problem of problems) console.error(`chaos: FAILED: ${problem}`);
  if (problems.length && report.errors.length) console.error(`chaos: transport errors: ${report.errors.join("; ")}`);
  return problems.length ? 1 : 0;
}

// The first few numbers in first..first+expected-1 that never arrived.
function missing(arrived, expected, first) {
  const seen = new Set(arrived);
  const absent = [];
  for (let n = first; n < first + expected && absent.length < 10; n++) if (!seen.has(n)) absent.push(n);
  return absent.length ? absent.join(", ") : "none";
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
