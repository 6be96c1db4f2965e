// Under a server's announced message rate the client paces itself instead
// of being closed (issue 26: "under an announced rate the client paces its
// sends"), and a 1013 that says how long to wait is waited for. The built
// package in Chromium:
// - resocket-server with `--message-rate 20` (bursts of 40, then 1013
//   "message rate limit"): 150 at-least-once messages sent at once, on the
//   WebSocket and on the HTTP fallback (the session's POSTs are rated too,
//   429 past it). Before: the socket was closed with 1013 after 40 and again
//   on every reconnect's flush (6 closes for 150 messages); over HTTP the
//   whole queue went in one POST, over the session's burst, so every POST
//   was answered 429 and the messages never arrived (still none after 4
//   minutes). Now: every message acknowledged, in order, with no close and
//   no 429.
// - a Node `ws` server of a few lines, written from PROTOCOL.md §7 alone,
//   that closes its first connection with 1013 "busy; retry after 3 s": the
//   client's next attempt waits at least 3 s (the `reconnecting` event's
//   delay), where the backoff alone would wait 50 ms.
// Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchChromium, startServer, startWsServer } from "./support.mjs";

/** A `ws` server whose first connection is closed with 1013 asking for `seconds`. */
async function busyOnceServer(seconds) {
  const stats = { connections: 0 };
  const server = await startWsServer((socket) => {
    stats.connections++;
    if (stats.connections === 1) socket.close(1013, `busy; retry after ${seconds} s`);
  });
  return { ...server, stats };
}

let browser;
let page;
let rated;
let busy;

before(async () => {
  rated = await startServer(["--message-rate", "20", "--static-dir", "/pkg=pkg"]);
  busy = await busyOnceServer(3);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${rated.url}/health`);
});

after(async () => {
  await browser?.close();
  await busy?.close();
  await rated?.stop();
});

/**
 * In the page: a transport with `options`, connected and past its first
 * acknowledgement (so the welcome has come), sends `count` messages with
 * sendWithAck at once; reports how they ended and what the transport saw.
 */
function burst(options, count) {
  return page.evaluate(
    async ({ base, options, count }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const t = new WebSocketTransport({ delivery: "at-least-once", messageQueueSize: 500, reconnectInterval: 50, maxReconnectInterval: 200, heartbeatInterval: 0, ...options });
      const report = { closes: [], errors: [] };
      t.on("close", ({ code, reason }) => report.closes.push(`${code} ${reason}`));
      t.on("error", (error) => report.errors.push(error.message));
      await new Promise((resolve) => {
        const off = t.on("state", (state) => state === "connected" && (off(), resolve()));
      });
      await t.sendWithAck("warmup", {});
      const acked = [];
      const sends = [];
      for (let n = 0; n < count; n++) {
        sends.push(
          t.sendWithAck("message", { n }).then(
            () => acked.push(n),
            (error) => report.errors.push(`rejected ${n}: ${error.message}`),
          ),
        );
      }
      await Promise.all(sends);
      report.acked = acked;
      report.mode = t.snapshot().mode;
      report.reconnects = t.stats.reconnects;
      t.free();
      return report;
    },
    { base: rated.url, options, count },
  );
}

// A hang guard, not a timed assertion: before pacing, the HTTP case never ended.
const GUARD = { timeout: 120_000 };

test("150 messages at once under a 20/s rate are paced on the WebSocket: none closed, all acknowledged in order", GUARD, async () => {
  const report = await burst({ url: `${rated.url.replace(/^http/, "ws")}/ws` }, 150);
  assert.deepEqual(report.closes, [], "no 1013");
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.acked, [...Array(150).keys()], "each acknowledged, in order");
  assert.equal(report.reconnects, 0);
  assert.equal(report.mode, "websocket");
});

test("the same burst over the HTTP fallback is paced too: no POST answered 429", GUARD, async () => {
  const report = await burst(
    {
      url: `${rated.url.replace(/^http/, "ws")}/ws`,
      enableWebSocket: false,
      httpFallbackUrl: `${rated.url}/messages`,
      httpEventsUrl: `${rated.url}/events`,
    },
    150,
  );
  assert.equal(report.mode, "http");
  assert.deepEqual(report.errors, [], "no POST failed (a 429 is reported as an error)");
  assert.deepEqual(report.acked, [...Array(150).keys()]);
});

test("a 1013 whose reason says `retry after 3 s` is waited for, not the backoff's 50 ms", GUARD, async () => {
  const report = await page.evaluate(
    async ({ base, url }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const t = new WebSocketTransport({ url, reconnectInterval: 50, maxReconnectInterval: 200, heartbeatInterval: 0 });
      const report = { closes: [], delays: [] };
      t.on("close", ({ code, reason }) => report.closes.push(`${code} ${reason}`));
      t.on("reconnecting", ({ delayMs }) => report.delays.push(delayMs));
      await new Promise((resolve) => {
        t.on("state", (state) => state === "connected" && report.closes.length && resolve());
      });
      t.free();
      return report;
    },
    { base: rated.url, url: busy.url },
  );
  assert.deepEqual(report.closes, ["1013 busy; retry after 3 s"]);
  assert.equal(report.delays.length, 1);
  assert.ok(report.delays[0] >= 3000, `waited ${report.delays[0]} ms`);
  assert.equal(busy.stats.connections, 2);
});
