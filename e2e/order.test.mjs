// The server's stream reaches the application in seq order, and every loss
// is told (issue 26, point 6; PROTOCOL.md §4). The built package in
// Chromium, against a Node `ws` server of a few lines written without
// resocket in mind, which numbers its frames as a broken or hostile server
// might:
// - 1, 5, 3, 4, 2: delivered 1, 2, 3, 4, 5 (before: as sent);
// - then a jump to 2^53 − 1 and a late 7: a gap notice, the far frame, and
//   the 7 dropped (before: the 7 was dropped without a word);
// - then 1 and 3 with no 2 ever: after the client's wait, a gap notice for 2,
//   then 3;
// - the resume after a drop asks for the highest seq delivered in order.
// Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocketServer } from "ws";

import { launchChromium, startServer } from "./support.mjs";

const TOP = Number.MAX_SAFE_INTEGER;

/**
 * A `ws` server that, when a page sends `{"type":"play","data":<name>}`,
 * sends that script's frames; it records each connection's URL.
 */
function scriptedServer() {
  const scripts = {
    shuffled: [1, 5, 3, 4, 2, TOP, 7],
    holed: [1, 3],
  };
  return new Promise((resolve) => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    const urls = [];
    server.on("connection", (socket, request) => {
      urls.push(request.url);
      socket.on("message", (data) => {
        let envelope;
        try {
          envelope = JSON.parse(String(data));
        } catch {
          return;
        }
        if (envelope?.type === "play") {
          for (const seq of scripts[envelope.data] ?? []) socket.send(JSON.stringify({ type: "chat", data: { n: seq }, seq }));
        }
        if (envelope?.type === "drop") socket.terminate();
      });
    });
    server.on("listening", () =>
      resolve({ url: `ws://127.0.0.1:${server.address().port}/`, urls, close: () => new Promise((done) => server.close(done)) }),
    );
  });
}

let browser;
let page;
let resocket;
let foreign;

before(async () => {
  resocket = await startServer(["--static-dir", "/pkg=pkg"]);
  foreign = await scriptedServer();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${resocket.url}/health`);
});

after(async () => {
  await browser?.close();
  await foreign?.close();
  await resocket?.stop();
});

/**
 * In the page: a transport on a fresh session plays `script`, and reports
 * what the application saw once `until` messages came, then after a drop
 * and the reconnect.
 */
function play(script, until) {
  return page.evaluate(
    async ({ base, url, script, until, session }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const t = new WebSocketTransport({ url, sessionId: session, heartbeatInterval: 0, reconnectInterval: 50, maxReconnectInterval: 100 });
      const seen = [];
      const gaps = [];
      t.on("message", (m) => seen.push(m.type === "gap" ? `gap ${m.data.after}..${m.data.firstAvailable}` : m.seq));
      t.onMessage("gap", (m) => gaps.push(m.data));
      const connected = () =>
        new Promise((resolve) => {
          if (t.state === "connected") return resolve();
          const off = t.on("state", (state) => state === "connected" && (off(), resolve()));
        });
      await connected();
      t.send("play", script);
      const deadline = Date.now() + 20_000;
      while (seen.length < until && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // A moment for anything that should not come.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const report = { seen: [...seen], gaps, lastSeq: t.snapshot().lastSeq, received: t.stats.received };
      t.send("drop", null);
      await new Promise((resolve) => t.on("state", (state) => state === "reconnecting" && resolve()));
      await connected();
      t.free();
      return report;
    },
    { base: resocket.url, url: foreign.url, script, until, session: `order-${script}` },
  );
}

test("a foreign server's frames out of order reach the application in order; a jump is told, a late copy dropped", async () => {
  const report = await play("shuffled", 7);
  assert.deepEqual(report.seen, [1, 2, 3, 4, 5, `gap 5..${TOP}`, TOP]);
  assert.deepEqual(report.gaps, [{ after: 5, firstAvailable: TOP }]);
  assert.equal(report.lastSeq, TOP, "the highest delivered in order");
  assert.equal(report.received, 6);
  const resumed = foreign.urls.filter((url) => url.includes("session_id=order-shuffled")).at(-1);
  assert.match(resumed, new RegExp(`[?&]last_seq=${TOP}(&|$)`), "the resume asks after the highest delivered");
});

test("a number that never comes is given up on after the wait: a gap notice, then what waited", async () => {
  const report = await play("holed", 3);
  assert.deepEqual(report.seen, [1, "gap 1..3", 3]);
  assert.equal(report.lastSeq, 3);
  const resumed = foreign.urls.filter((url) => url.includes("session_id=order-holed")).at(-1);
  assert.match(resumed, /[?&]last_seq=3(&|$)/);
});
