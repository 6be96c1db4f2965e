// Server restarts, as every deploy makes them (DESIGN.md §8), with the built
// package in Chromium: the page holds a session, the server process is
// stopped and a new one started on the same port, the new process numbers
// from 1 again, and the page resumes with its old position.
//
// - resocket-server speaks v1.1: its `welcome` names a new epoch and its
//   `reset` says the old stream is gone, so even a new stream that already
//   went past the old position is delivered whole (the case a client cannot
//   see by itself).
// - A v1 server (a dozen lines of Node `ws` below: numbering and replay, no
//   epochs) is understood by the client's own rule: a first frame at or below
//   the resume point is a new stream.
//
// Either way: every frame of the new stream delivered, one "reset" event, no
// frame dropped. Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocketServer } from "ws";

import { json, launchChromium, startServer } from "./support.mjs";

let statics;
let browser;
let page;

before(async () => {
  statics = await startServer(["--static-dir", "/pkg=pkg"]);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${statics.url}/health`);
  await page.evaluate(async (base) => {
    const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
    await init();
    // One transport for the whole test, driven step by step from Node.
    const seen = { messages: [], resets: [], closes: [] };
    Object.assign(globalThis, { WebSocketTransport, seen });
    globalThis.waitFor = (predicate) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          if (predicate()) return resolve(true);
          if (Date.now() - started > 10_000) return reject(new Error(`timed out: ${JSON.stringify(seen)}`));
          setTimeout(poll, 20);
        };
        poll();
      });
  }, statics.url);
});

after(async () => {
  await browser?.close();
  await statics?.stop();
});

/** Opens a transport to `url` in the page, records what it delivers. */
function openTransport(url) {
  return page.evaluate(async (url) => {
    seen.messages = [];
    seen.resets = [];
    const transport = new WebSocketTransport({ url, sessionId: "restart-1", reconnectInterval: 50, reconnectJitter: 0 });
    transport.on("message", (frame) => seen.messages.push([frame.seq, frame.data?.n ?? frame.data]));
    transport.on("reset", (reset) => seen.resets.push(reset));
    globalThis.transport = transport;
    await waitFor(() => transport.state === "connected");
  }, url);
}

test("resocket-server restarts (v1.1): welcome, reset, the new stream whole even past the old position", async () => {
  let server = await startServer(["--port", "0"]);
  const port = new URL(server.url).port;
  try {
    await openTransport(`ws://127.0.0.1:${port}/ws`);
    await json(`${server.url}/control/restart-1/push?count=5`, { method: "POST" });
    await page.evaluate(() => waitFor(() => seen.messages.length === 5));

    // The deploy: the page is away while the process is replaced and the
    // new one has already numbered 8 frames for the session.
    await page.evaluate(() => transport.disconnect());
    await server.stop();
    server = await startServer(["--port", port]);
    await json(`${server.url}/control/restart-1/push?count=8`, { method: "POST" });
    const log = async () => (await json(`${server.url}/control/restart-1/log`)).lastSeq;
    while ((await log()) < 8) await new Promise((resolve) => setTimeout(resolve, 20));

    await page.evaluate(() => transport.connect());
    await page.evaluate(() => waitFor(() => seen.messages.length === 13));
    const seen = await page.evaluate(() => ({ ...seen, snapshot: transport.getSnapshot() }));
    assert.deepEqual(
      seen.messages.map(([seq]) => seq),
      [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6, 7, 8],
      "the new stream's 8 frames, none taken for a replay of the old one",
    );
    assert.deepEqual(seen.resets, [{ previousSeq: 5, firstSeq: 1 }]);
    assert.equal(seen.snapshot.stats.resets, 1);
    assert.equal(seen.snapshot.lastSeq, 8);
    const connections = (await json(`${server.url}/control/restart-1/log`)).connections;
    assert.match(connections.at(-1).query, /protocol=1\.1&epoch=[0-9a-f]{16}&last_seq=5/, "resumed with the old epoch");
  } finally {
    await page.evaluate(() => globalThis.transport?.free());
    await server.stop();
  }
});

/** A v1 server: numbers what it sends per session, replays after `last_seq`; nothing of v1.1. */
function v1Server(port = 0) {
  return new Promise((resolve) => {
    const sessions = new Map();
    const server = new WebSocketServer({ host: "127.0.0.1", port });
    server.on("connection", (socket, request) => {
      const query = new URL(request.url, "http://h").searchParams;
      const id = query.get("session_id");
      if (!sessions.has(id)) sessions.set(id, []);
      const frames = sessions.get(id);
      const lastSeq = Number(query.get("last_seq") ?? 0);
      for (const text of frames.slice(lastSeq)) socket.send(text);
      socket.on("message", (data) => {
        const envelope = JSON.parse(data.toString());
        if (envelope.type === "ping") return socket.send(JSON.stringify({ type: "pong", id: envelope.id }));
        const text = JSON.stringify({ type: "message", data: envelope.data, seq: frames.length + 1 });
        frames.push(text);
        socket.send(text);
      });
    });
    server.on("listening", () =>
      resolve({
        port: server.address().port,
        stop: () =>
          new Promise((done) => {
            for (const client of server.clients) client.terminate();
            server.close(done);
          }),
      }),
    );
  });
}

test("a v1 server restarts: the client's own rule sees the new stream, nothing dropped", async () => {
  let server = await v1Server();
  const port = server.port;
  try {
    await openTransport(`ws://127.0.0.1:${port}/`);
    await page.evaluate(async () => {
      for (let n = 1; n <= 5; n++) transport.send("message", { n });
      await waitFor(() => seen.messages.length === 5);
    });
    await page.evaluate(() => transport.disconnect());
    await server.stop();
    server = await v1Server(port);
    await page.evaluate(async () => {
      transport.connect();
      await waitFor(() => transport.state === "connected");
      for (let n = 6; n <= 8; n++) transport.send("message", { n });
      await waitFor(() => seen.messages.length === 8);
    });
    const seen = await page.evaluate(() => seen);
    assert.deepEqual(
      seen.messages,
      [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [1, 6], [2, 7], [3, 8]],
      "the restarted server's replies, numbered from 1, all delivered",
    );
    assert.deepEqual(seen.resets, [{ previousSeq: 5, firstSeq: 1 }]);
  } finally {
    await page.evaluate(() => globalThis.transport?.free());
    await server.stop();
  }
});
