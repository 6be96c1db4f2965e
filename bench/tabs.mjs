// What the shared connection across tabs (issue 17) can build on, measured
// in headless Chromium and Firefox through their WebDriver drivers: whether
// Web Locks, BroadcastChannel and SharedWorker exist, how long after a
// lock-holding tab is closed another tab is granted the lock, and whether
// BroadcastChannel messages posted just before the close still arrive.
// Prints figures; asserts nothing. `node bench/tabs.mjs [--rounds N]`.
import { parseArgs } from "node:util";

import { startServer } from "../e2e/support.mjs";
import { BROWSERS, launch } from "../e2e/webdriver.mjs";
import { median } from "./report.mjs";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const ROUNDS = Number(values.rounds);
const BURST = 1000;


const server = await startServer([]);
const page = `${server.url}/health`;
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
    } finally {
      await browser.quit();
    }
  }
} finally {
  await server.stop();
}
