// What a POST's status makes the HTTP fallback do (issue 26, point 6;
// PROTOCOL.md §6). The built package in Chromium, HTTP only
// (`enableWebSocket: false`), against a Node `http` server of a few lines
// written without resocket in mind: an event stream that stays open, and a
// POST endpoint that answers as a script says.
// - 401: the transport stops ("disconnected", terminal-close, lastClose
//   4401) instead of retrying for ever (before: retried like a 500);
// - 429 with Retry-After: 1 (exposed to the page, as CORS requires): the
//   batch comes again after the wait, once;
// - 413 for a batch: nothing is given up, each message comes alone; 413 for
//   one message: that one is given up ("dropped"), the rest go on.
// Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { launchChromium, startServer } from "./support.mjs";

/** The fallback of a server that answers each POST with `script.shift()` (200 when it runs out). */
function scriptedFallback() {
  const state = { script: [], posts: [], streams: 0 };
  const server = createServer((request, response) => {
    // Retry-After is not CORS-safelisted: a cross-origin page reads it only exposed.
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "content-type", "access-control-expose-headers": "retry-after" };
    if (request.method === "OPTIONS") return response.writeHead(204, cors).end();
    if (request.url.startsWith("/events")) {
      state.streams++;
      response.writeHead(200, { ...cors, "content-type": "text/event-stream", "cache-control": "no-cache" });
      response.write(": open\n\n");
      return;
    }
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const [status, headers = {}] = state.script.shift() ?? [200];
      const envelopes = JSON.parse(body);
      state.posts.push({ status, ns: envelopes.map((envelope) => envelope.data?.n) });
      response.writeHead(status, { ...cors, ...headers, "content-type": "application/json" });
      response.end(status === 200 ? "[]" : JSON.stringify({ error: `scripted ${status}` }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        state,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(done))),
      }),
    ),
  );
}

let browser;
let page;
let resocket;
let fallback;

before(async () => {
  resocket = await startServer(["--static-dir", "/pkg=pkg"]);
  fallback = await scriptedFallback();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${resocket.url}/health`);
});

after(async () => {
  await browser?.close();
  await fallback?.close();
  await resocket?.stop();
});

/**
 * In the page: an HTTP-only transport sends a warm-up, then `sizes.length`
 * messages at once (message n carries `sizes[n]` bytes of text), and waits
 * until `done` holds of what the server saw, or the transport stopped.
 */
async function run(script, sizes, done) {
  fallback.state.script = [[200], ...script];
  fallback.state.posts = [];
  await page.evaluate(
    async ({ base, fallbackUrl, sizes }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const t = new WebSocketTransport({
        enableWebSocket: false,
        httpFallbackUrl: `${fallbackUrl}/messages`,
        httpEventsUrl: `${fallbackUrl}/events`,
        reconnectInterval: 50,
        maxReconnectInterval: 100,
        heartbeatInterval: 0,
      });
      const seen = { dropped: [], states: [], closes: [] };
      t.on("dropped", ({ message }) => seen.dropped.push(message.data.n));
      t.on("state", (state) => seen.states.push(state));
      t.on("close", ({ code }) => seen.closes.push(code));
      await new Promise((resolve) => {
        const off = t.on("state", (state) => state === "connected" && (off(), resolve()));
      });
      t.send("warmup", { n: -1 });
      // Sent while the warm-up's POST is in flight: they go in one batch.
      for (const [n, bytes] of sizes.entries()) t.send("chat", { n, text: "x".repeat(bytes) });
      globalThis.__report = () => ({ ...seen, state: t.state, snapshot: t.snapshot(), queued: t.queueLength });
      return true;
    },
    { base: resocket.url, fallbackUrl: fallback.url, sizes },
  );
  const stopped = async () => (await page.evaluate(() => globalThis.__report().state)) === "disconnected";
  const deadline = Date.now() + 20_000;
  while (!done(fallback.state.posts) && !(await stopped()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  // The server has seen what it waited for; the page may not have read
  // the last answer yet.
  const settled = Date.now() + 5_000;
  while (Date.now() < settled && !["connected", "disconnected"].includes(await page.evaluate(() => globalThis.__report().state))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seen = await page.evaluate(() => globalThis.__report());
  return { seen, posts: fallback.state.posts.slice(1) };
}

const delivered = (posts) => posts.filter((post) => post.status === 200).flatMap((post) => post.ns);

test("a 401 on a POST stops the transport as a 4401 close would, keeping the messages", async () => {
  const { seen, posts } = await run([[401]], [10, 10], () => false);
  assert.equal(seen.state, "disconnected");
  assert.equal(seen.snapshot.disconnectReason, "terminal-close");
  assert.equal(seen.snapshot.lastClose.code, 4401);
  assert.deepEqual(seen.closes, [4401]);
  assert.deepEqual(posts, [{ status: 401, ns: [0, 1] }], "not posted again");
  assert.equal(seen.queued, 2, "kept for the next connect()");
});

test("a 429 with Retry-After: the batch comes again once, after the wait", async () => {
  const { seen, posts } = await run([[429, { "retry-after": "1" }]], [10, 10], (posts) => delivered(posts.slice(1)).length >= 2);
  assert.deepEqual(posts, [
    { status: 429, ns: [0, 1] },
    { status: 200, ns: [0, 1] },
  ]);
  assert.equal(seen.state, "connected");
  assert.deepEqual(seen.dropped, []);
});

test("a 413 for a batch gives nothing up and posts one message at a time; a 413 for one gives that one up", async () => {
  const { seen, posts } = await run([[413], [200], [413], [200]], [10, 20, 30], (posts) => posts.length >= 5);
  assert.deepEqual(posts, [
    { status: 413, ns: [0, 1, 2] },
    { status: 200, ns: [0] },
    { status: 413, ns: [1] },
    { status: 200, ns: [2] },
  ]);
  assert.deepEqual(seen.dropped, [1], "the one refused alone");
  assert.equal(seen.queued, 0);
  assert.equal(seen.state, "connected");
});
