// What the shared connection across tabs (issue 17) can build on, measured
// in headless Chromium and Firefox through their WebDriver drivers: whether
// Web Locks, BroadcastChannel and SharedWorker exist, how long after a
// lock-holding tab is closed another tab is granted the lock, and whether
// BroadcastChannel messages posted just before the close still arrive; then
// resocket/shared itself: how long after the leader's tab is closed the next
// tab's transport has its own socket open, with Web Locks and by lease
// (needs `scripts/build-pkg` first, for pkg/).
// Prints figures; asserts nothing. `node bench/tabs.mjs [--rounds N]`.
import { parseArgs } from "node:util";

import { startServer } from "../e2e/support.mjs";
import { BROWSERS, blankPage, launch } from "../e2e/webdriver.mjs";
import { median } from "./report.mjs";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const ROUNDS = Number(values.rounds);
const BURST = 1000;


const blank = blankPage("tabs");
const server = await startServer(blank.mounts);
const page = `${server.url}/health`;

/**
 * resocket/shared: two tabs share a connection; the leader's tab is closed;
 * ms from the WebDriver close to the other tab's "open" event (its own
 * socket, on the same session), per round.
 */
async function takeovers(browser, election) {
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const key = `bench-${election}-${round}`;
    const tabs = [];
    for (let n = 0; n < 2; n++) {
      const tab = await browser.open(`${server.url}/blank/index.html`);
      await tab.run(
        async (base, key, election) => {
          if (election === "lease") Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
          const { default: init, WebSocketTransport } = await import(`${base}/pkg/shared.js`);
          await init();
          const transport = new WebSocketTransport({ url: `${base.replace(/^http/, "ws")}/ws`, shareAcrossTabs: key });
          window.bench = { transport, openedAt: null };
          transport.on("open", () => (window.bench.openedAt = Date.now()));
          await new Promise((resolve) => {
            const check = () => (transport.state === "connected" ? resolve(undefined) : setTimeout(check, 20));
            check();
          });
        },
        server.url,
        key,
        election,
      );
      tabs.push(tab);
    }
    const closedAt = Date.now();
    await tabs[0].close();
    let openedAt = null;
    for (let tries = 0; tries < 200 && openedAt === null; tries++) {
      openedAt = await tabs[1].run(() => (window.bench.transport.isLeader ? window.bench.openedAt : null));
      if (openedAt === null) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (openedAt === null) throw new Error(`${browser.browser} ${election}: no takeover`);
    times.push(openedAt - closedAt);
    await tabs[1].close();
  }
  return times;
}
try {
  for (const name of BROWSERS) {
    const browser = await launch(name);
    try {
      const support = await (await browser.open(page)).run(() => ({
        locks: typeof navigator.locks?.request === "function",
        broadcastChannel: typeof BroadcastChannel === "function",
        sharedWorker: typeof SharedWorker === "function",
        secureContext: isSecureContext,
      }));
      const handOver = [];
      const delivered = [];
      for (let round = 0; round < ROUNDS; round++) {
        const lock = `probe-${round}`;
        const leader = await browser.open(page);
        await leader.run((lock) => {
          window.channel = new BroadcastChannel(lock);
          return new Promise((held) => navigator.locks.request(lock, () => (held(), new Promise(() => {}))));
        }, lock);
        const followers = [await browser.open(page), await browser.open(page)];
        for (const follower of followers) {
          await follower.run((lock) => {
            window.received = 0;
            window.granted = null;
            new BroadcastChannel(lock).onmessage = () => window.received++;
            navigator.locks.request(lock, () => {
              window.granted = Date.now();
              return new Promise(() => {});
            });
          }, lock);
        }
        await leader.run((burst) => {
          for (let n = 0; n < burst; n++) window.channel.postMessage(n);
        }, BURST);
        const closedAt = Date.now();
        await leader.close();
        let granted = [];
        for (let tries = 0; tries < 100; tries++) {
          granted = [];
          for (const follower of followers) granted.push(await follower.run(() => window.granted));
          if (granted.some((at) => at !== null)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
        const counts = [];
        for (const follower of followers) counts.push(await follower.run(() => window.received));
        const winners = granted.filter((at) => at !== null);
        if (winners.length !== 1) throw new Error(`${name}: ${winners.length} tabs hold the lock`);
        handOver.push(winners[0] - closedAt);
        delivered.push(Math.min(...counts));
        for (const follower of followers) await follower.close();
      }
      console.log(
        `${name.padEnd(9)} locks ${support.locks} · BroadcastChannel ${support.broadcastChannel} · ` +
          `SharedWorker ${support.sharedWorker} · secure context ${support.secureContext}`,
      );
      console.log(
        `${"".padEnd(9)} lock granted to another tab after the holder's close (WebDriver close to grant, ms): ` +
          `median ${median(handOver)}, ${Math.min(...handOver)}–${Math.max(...handOver)} over ${ROUNDS}`,
      );
      console.log(
        `${"".padEnd(9)} of ${BURST} messages posted right before the close, each follower got at least ` +
          `${Math.min(...delivered)}`,
      );
      for (const election of ["locks", "lease"]) {
        const times = await takeovers(browser, election);
        console.log(
          `${"".padEnd(9)} resocket/shared (${election}): leader's tab closed → the next tab's socket open (ms): ` +
            `median ${median(times)}, ${Math.min(...times)}–${Math.max(...times)} over ${ROUNDS}`,
        );
      }
    } finally {
      await browser.quit();
    }
  }
} finally {
  await server.stop();
  blank.remove();
}
