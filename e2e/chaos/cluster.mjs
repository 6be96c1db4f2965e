// scripts/cluster-chaos: the chaos run against a cluster. Debian's
// redis-server and HAProxy (round-robin, no stickiness, a /health check)
// in front of three resocket-server nodes, all on free loopback ports and
// all started and stopped here. The page (e2e/chaos/page.js, through
// HAProxy) sends N numbered messages with at-least-once delivery and the
// HTTP fallback, while pushes are published on random nodes, nodes are
// killed with SIGKILL and restarted at random (at least 10 kills, with
// messages awaiting acks), and the single-node faults keep happening on
// whichever node holds the session. Then, one line each way:
//
//   cluster-chaos: client→server sent=N handled=N lost=0 duplicated=0 kills=K ...
//   cluster-chaos: server→client pushes=P delivered=P lost=0 duplicated=0 reordered=0 ...
//
// "Handled" counts the Echo handler's replies the page received, by the
// message number they carry: each message must be handled exactly once,
// whichever node got it (and however often it was resent). With
// `--engine memory` the same run uses three nodes without Redis: it must
// show losses and duplicates (the proof that the run can fail).
//
// node e2e/chaos/cluster.mjs [--messages N] [--rate PER_SECOND] [--seed S] [--engine redis|memory] [--kills K]
import { parseArgs } from "node:util";
import { freePort, sleep, startHaproxy, startNode, startRedis, stopAll } from "../cluster-support.mjs";
import { TEST_SERVER_FLAGS, launchChromium } from "../support.mjs";
import { compare, positiveInteger, seededRandom } from "./tally.mjs";

const { values: flags } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    rate: { type: "string", default: "100" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    engine: { type: "string", default: "redis" },
    kills: { type: "string", default: "10" },
  },
});
if (!["redis", "memory"].includes(flags.engine)) {
  console.error(`cluster-chaos: --engine must be redis or memory, got ${flags.engine}`);
  process.exit(2);
}
const messages = positiveInteger("cluster-chaos", "--messages", flags.messages);
const rate = positiveInteger("cluster-chaos", "--rate", flags.rate);
const seed = positiveInteger("cluster-chaos", "--seed", flags.seed);
const minimumKills = positiveInteger("cluster-chaos", "--kills", flags.kills);
const sendingMs = (messages / rate) * 1000;
const PUSHES_PER_SECOND = 10;
const SETTLE_MS = 60_000;
const NODES = 3;

const random = seededRandom(seed);
const between = (low, high) => Math.round(low + random() * (high - low));
// --- the cluster ---
const redisPort = flags.engine === "redis" ? await startRedis() : undefined;
const nodes = [];
for (let i = 0; i < NODES; i++) nodes.push({ port: await freePort(), child: null });
const nodeArgs = [...TEST_SERVER_FLAGS, "--static-dir", "/chaos=e2e/chaos", "--static-dir", "/pkg=pkg", "--message-rate", "0"];
const start = (node) => startNode(node, { args: nodeArgs, redisPort });
for (const node of nodes) await start(node);
const front = await startHaproxy(nodes);

const browser = await launchChromium();
let exitCode = 1;
try {
  exitCode = await chaos();
} catch (error) {
  console.error(`cluster-chaos: the run itself failed: ${error.stack ?? error}`);
} finally {
  await browser.close();
  stopAll();
}
process.exit(exitCode);

async function post(url) {
  const response = await fetch(url, { method: "POST", signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status}`);
  return response.json();
}

async function chaos() {
  const sessionId = `cluster-${process.pid}-${seed}`;
  const live = () => nodes.filter((node) => node.child);
  // A fault for the session on every live node: whichever holds its channel.
  const everywhere = (path) => Promise.allSettled(live().map((node) => post(`${node.url}/control/${path}`)));

  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(`${front}/chaos/page.html`);
  await page.waitForFunction(() => window.chaos !== undefined, null, { timeout: 15_000 });

  const pushes = Math.max(1, Math.round((sendingMs / 1000) * PUSHES_PER_SECOND));
  const killEvery = sendingMs / (minimumKills + 1);
  console.log(
    `cluster-chaos: ${NODES} nodes (${flags.engine}) behind HAProxy round-robin, ${messages} messages at ${rate}/s ` +
      `(${(sendingMs / 1000).toFixed(0)} s), ${pushes} pushes on random nodes, ≥${minimumKills} kills, seed ${seed}`,
  );
  const startedAt = Date.now();
  const elapsed = () => Date.now() - startedAt;
  await page.evaluate((config) => window.chaos.start(config), { messages, rate, sessionId, delivery: "at-least-once" });
  await page.waitForFunction(() => window.chaos.report().state === "connected", null, { timeout: 15_000 });

  // Which node accepted each of the session's sockets, by wall-clock time,
  // gathered from every node's log while it lives.
  const attempts = new Map();
  async function readConnections() {
    await Promise.allSettled(
      live().map(async (node) => {
        const response = await fetch(`${node.url}/control/${sessionId}/log`, { signal: AbortSignal.timeout(2000) });
        if (!response.ok) return;
        const log = await response.json();
        for (const connection of log.connections ?? []) {
          if (connection.outcome === "accepted") {
            attempts.set(`${node.port}/${connection.connection}`, { node: node.port, at: connection.attemptedAt });
          }
        }
      }),
    );
  }

  const faults = { drop: 0, down: 0, blackhole: 0, refuse: 0, kill: 0 };
  let killsWithUnacked = 0; // kills while the page had messages awaiting acks
  let nextPush = 1;
  let nextPushAt = 0;
  let nextFaultAt = between(1500, 3000);
  let nextKillAt = killEvery * 0.5;
  let lastProgress = 0;
  const restarts = [];
  while (elapsed() < sendingMs || faults.kill < minimumKills || nextPush <= pushes) {
    const now = elapsed();
    // Pushes, each published on a random live node, numbered in one sequence.
    if (nextPush <= pushes && now >= nextPushAt) {
      const candidates = live();
      const node = candidates[Math.floor(random() * candidates.length)];
      try {
        await post(`${node.url}/control/${sessionId}/push?count=1&first=${nextPush}`);
        nextPush += 1;
      } catch {
        // That node is going down: the next tick picks another.
      }
      nextPushAt = now + 1000 / PUSHES_PER_SECOND;
    }
    // A node killed (SIGKILL: no goodbye to its clients), back after 0.5-2 s.
    if (now >= nextKillAt && live().length === NODES) {
      const victim = nodes[Math.floor(random() * NODES)];
      const report = await page.evaluate(() => window.chaos.report());
      victim.child.kill("SIGKILL");
      victim.child = null;
      faults.kill += 1;
      if (report.sent > report.acked) killsWithUnacked += 1;
      restarts.push({ node: victim, at: now + between(500, 2000), awaiting: report.sent - report.acked });
      nextKillAt = now + killEvery * (0.6 + random() * 0.8);
    }
    for (const restart of restarts.filter((entry) => entry.at <= now)) {
      restarts.splice(restarts.indexOf(restart), 1);
      await start(restart.node);
    }
    // The single-node faults, on whichever node holds the session.
    if (now >= nextFaultAt && now < sendingMs) {
      const roll = random();
      if (roll < 0.4) {
        faults.drop += 1;
        await everywhere(`${sessionId}/drop`);
        await everywhere(`${sessionId}/drop-events`);
      } else if (roll < 0.6) {
        faults.down += 1;
        const node = live()[Math.floor(random() * live().length)];
        await post(`${node.url}/control/down?ms=${between(1500, 3000)}`).catch(() => {});
      } else if (roll < 0.8) {
        faults.blackhole += 1;
        await everywhere(`${sessionId}/blackhole?ms=${between(1500, 3000)}`);
      } else {
        faults.refuse += 1;
        await everywhere(`${sessionId}/refuse?ms=${between(3000, 5000)}`);
        await everywhere(`${sessionId}/drop`);
      }
      nextFaultAt = now + between(2000, 4000);
    }
    await readConnections();
    if (now - lastProgress > 5000) {
      lastProgress = now;
      const state = await page.evaluate(() => window.chaos.report());
      console.log(
        `  ${(now / 1000).toFixed(0).padStart(4)} s  sent=${state.sent} acked=${state.acked} echoes=${state.echoes} ` +
          `pushes=${state.pushCount}/${pushes} kills=${faults.kill} ${state.state}/${state.mode} queued=${state.queued}`,
      );
    }
    await sleep(20);
  }
  for (const restart of restarts) await start(restart.node);

  // Draining, with every node up and no faults.
  let report;
  const settleFrom = Date.now();
  for (;;) {
    await readConnections();
    report = await page.evaluate(() => window.chaos.report(true));
    const done =
      report.sendingDone &&
      report.acked + report.rejected.length + report.notSent.length === messages &&
      new Set(report.echoed).size >= messages &&
      report.pushes.length >= pushes;
    if (done || Date.now() - settleFrom > SETTLE_MS) break;
    await sleep(250);
  }
  await readConnections();

  const handled = compare(report.echoed, messages, 0);
  const pushed = compare(report.pushes, pushes, 1);
  const ordered = [...attempts.values()].sort((a, b) => a.at.localeCompare(b.at));
  let moves = 0;
  for (let i = 1; i < ordered.length; i++) if (ordered[i].node !== ordered[i - 1].node) moves += 1;
  console.log(
    `cluster-chaos: client→server sent=${report.sent} handled=${handled.delivered} lost=${handled.lost} ` +
      `duplicated=${handled.duplicated} acked=${report.acked} kills=${faults.kill} (${killsWithUnacked} with messages awaiting acks) ` +
      `resumes-on-another-node=${moves}/${Math.max(0, ordered.length - 1)} ` +
      `fallbacks=${report.modes.filter((mode) => mode === "http").length}`,
  );
  console.log(
    `cluster-chaos: server→client pushes=${pushes} delivered=${pushed.delivered} lost=${pushed.lost} ` +
      `duplicated=${pushed.duplicated} reordered=${pushed.reordered} ` +
      `faults: ${Object.entries(faults).map(([kind, n]) => `${kind}=${n}`).join(" ")} in ${(elapsed() / 1000).toFixed(0)} s`,
  );
  const problems = [];
  if (handled.lost || handled.duplicated) problems.push("messages lost or handled twice");
  if (pushed.lost || pushed.duplicated || pushed.reordered) problems.push("pushes lost, duplicated or reordered");
  if (report.rejected.length || report.notSent.length) problems.push(`sends that failed: ${JSON.stringify(report.rejected.slice(0, 3))}`);
  if (faults.kill < minimumKills) problems.push(`only ${faults.kill} kills`);
  if (moves === 0) problems.push("no resume landed on another node");
  if (pageErrors.length) problems.push(`uncaught errors in the page: ${pageErrors.slice(0, 3).join("; ")}`);
  for (const problem of problems) console.error(`cluster-chaos: FAILED: ${problem}`);
  return problems.length ? 1 : 0;
}

