// A message the server cannot take never blocks the others (issue 26, point
// 2). The built package in Chromium, `delivery: "at-least-once"`, one message
// over the server's limit sent first and five small ones after it:
// - resocket-server at its defaults (1 MiB): 2 MiB is refused at `send`
//   (sendWithAck rejects naming the size, a "dropped" and an "error" event),
//   the five are acknowledged, and no socket is closed. Before: 0 of the 5,
//   11 closes in 15 s (1009, then 1006 …), then the transport gave up.
// - resocket-server at 64 KiB: its `welcome` announces the limit and the
//   client adopts it (the option is still 1 MiB): 100 KiB is refused at once.
// - a Node `ws` server of a few lines with a 64 KiB maxPayload, which knows
//   nothing of limits but acks by id (PROTOCOL.md §5): the 100 KiB message
//   gets the socket closed with 1009 once; it is given up, the five are
//   acknowledged after the reconnect, and the next 100 KiB one is refused
//   at `send` (the limit was learned).
// Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchChromium, startServer, startWsServer } from "./support.mjs";

/** A `ws` server that acks every envelope with an id and takes messages up to `maxPayload`. */
async function ackingServer(maxPayload) {
  const stats = { connections: 0, refused: 0 };
  const server = await startWsServer(
    (socket) => {
      stats.connections++;
      // `ws` closes with 1009 and reports the message it refused here.
      socket.on("error", () => stats.refused++);
      socket.on("message", (data) => {
        let envelope;
        try {
          envelope = JSON.parse(String(data));
        } catch {
          return;
        }
        if (typeof envelope?.id === "string") socket.send(JSON.stringify({ type: "ack", id: envelope.id }));
      });
    },
    { maxPayload },
  );
  return { ...server, stats };
}

let browser;
let page;
let resocket;
let small;
let foreign;

before(async () => {
  resocket = await startServer(["--static-dir", "/pkg=pkg"]);
  small = await startServer(["--max-message-bytes", "65536"]);
  foreign = await ackingServer(65536);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${resocket.url}/health`);
});

after(async () => {
  await browser?.close();
  await foreign?.close();
  await Promise.all([resocket?.stop(), small?.stop()]);
});

/**
 * In the page: connects to `url`, sends one message of `bigBytes` bytes then
 * five small ones with sendWithAck, and reports how each ended, the events,
 * and what a second big one does.
 */
function run(url, bigBytes) {
  return page.evaluate(
    async ({ base, url, bigBytes }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const t = new WebSocketTransport({ url, delivery: "at-least-once", reconnectInterval: 50, maxReconnectInterval: 200, heartbeatInterval: 0 });
      const report = { dropped: [], errors: [], closes: [], results: [], states: [] };
      t.on("dropped", ({ message, reason }) => report.dropped.push({ type: message?.type, bytes: JSON.stringify(message).length, reason }));
      t.on("error", (error) => report.errors.push(error.message));
      t.on("close", ({ code }) => report.closes.push(code));
      t.on("state", (state) => report.states.push(state));
      await new Promise((resolve) => {
        const off = t.on("state", (state) => state === "connected" && (off(), resolve()));
      });
      // The welcome (if any) has arrived once a first acknowledgement has.
      await t.sendWithAck("warmup", {});
      const settle = (promise) => promise.then(() => "acked", (error) => `rejected: ${error.message}`);
      const big = settle(t.sendWithAck("big", { text: "x".repeat(bigBytes) }));
      const rest = [1, 2, 3, 4, 5].map((n) => settle(t.sendWithAck("small", { n })));
      report.results = await Promise.all([big, ...rest]);
      report.second = t.send("big", { text: "x".repeat(bigBytes) });
      report.queued = t.queueLength;
      report.state = t.state;
      report.stats = t.stats;
      t.free();
      return report;
    },
    { base: resocket.url, url, bigBytes },
  );
}

test("resocket-server at its defaults: 2 MiB is refused at send, the five after it are acknowledged, nothing is closed", async () => {
  const report = await run(`${resocket.url.replace("http", "ws")}/ws`, 2 * 1024 * 1024);
  const [big, ...rest] = report.results;
  assert.match(big, /^rejected: resocket: the message is 2097\d{3} bytes, over maxMessageBytes \(1048576\) or the server's limit$/);
  assert.deepEqual(rest, ["acked", "acked", "acked", "acked", "acked"]);
  assert.equal(report.dropped.length, 2, "the first big one and the second");
  assert.equal(report.dropped[0].type, "big");
  assert.match(report.dropped[0].reason, /^the message is 2097\d{3} bytes, over maxMessageBytes/);
  assert.equal(report.errors.length, 2, JSON.stringify(report.errors));
  assert.deepEqual(report.closes, [], "no socket was closed");
  assert.equal(report.second, "dropped");
  assert.equal(report.queued, 0);
  assert.equal(report.state, "connected");
  assert.equal(report.stats.dropped, 2);
});

test("a server at 64 KiB announces it in its welcome: 100 KiB is refused at send though the option is 1 MiB", async () => {
  const report = await run(`${small.url.replace("http", "ws")}/ws`, 100 * 1024);
  const [big, ...rest] = report.results;
  assert.match(big, /over maxMessageBytes \(65536\) or the server's limit$/);
  assert.deepEqual(rest, ["acked", "acked", "acked", "acked", "acked"]);
  assert.deepEqual(report.closes, [], "no socket was closed");
  assert.equal(report.second, "dropped");
});

test("a foreign server that closes with 1009: the refused message is given up once, the others go on, the limit is learned", async () => {
  const report = await run(foreign.url, 100 * 1024);
  const [big, ...rest] = report.results;
  assert.equal(big, "rejected: resocket: the message was refused: the server closed the socket with 1009 (message too big)");
  assert.deepEqual(rest, ["acked", "acked", "acked", "acked", "acked"]);
  assert.deepEqual(report.closes, [1009], "closed once, for the big one");
  assert.equal(report.dropped.length, 2);
  assert.equal(report.dropped[0].type, "big");
  assert.match(report.dropped[1].reason, /over maxMessageBytes \(1024\d{2}\) or the server's limit$/);
  assert.equal(report.second, "dropped", "refused at once, without another 1009");
  assert.equal(report.queued, 0);
  assert.equal(report.state, "connected");
  assert.equal(foreign.stats.refused, 1, "the server refused one message");
  assert.equal(foreign.stats.connections, 2, "one reconnect");
});
