// The built package in Chromium against servers that know nothing of
// resocket (DESIGN.md §8), each a few lines of Node `ws`: one echoes every
// frame verbatim, one ignores the client and pushes its own frames, one never
// sends anything. With short heartbeat settings (1 s interval, 0.5 s timeout)
// over 8 s (the 10-minute run with the defaults is the core's own test,
// src/core/tests/heartbeat.rs), the links to the first two are never closed,
// the silent one is closed once and then kept, with one error saying why.
// Outcomes are counted, never timed. resocket/shared is run against the
// echo server too: two tabs on one connection, and a takeover.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchChromium, startServer, startWsServer } from "./support.mjs";

/** A `ws` server on a free loopback port running `behaviour` per socket. */
async function foreignServer(behaviour) {
  const stats = { connections: 0, received: 0 };
  const server = await startWsServer((socket) => {
    stats.connections++;
    socket.on("message", () => stats.received++);
    behaviour(socket);
  });
  return { ...server, stats };
}

const echo = (socket) => socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
const pusher = (socket) => {
  let n = 0;
  const timer = setInterval(() => socket.send(JSON.stringify({ event: "tick", n: ++n })), 100);
  socket.on("close", () => clearInterval(timer));
};
const silent = () => {};

let page;
let browser;
let resocket;
const servers = {};

before(async () => {
  resocket = await startServer(["--static-dir", "/pkg=pkg"]);
  servers.echo = await foreignServer(echo);
  servers.pusher = await foreignServer(pusher);
  servers.silent = await foreignServer(silent);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${resocket.url}/health`);
});

after(async () => {
  await browser?.close();
  await Promise.all(Object.values(servers).map((server) => server.close()));
  await resocket?.stop();
});

test("echo, pushing and silent servers: no churn, one close for the silent one, errors that say why", async () => {
  const urls = Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, server.url]));
  const seen = await page.evaluate(
    async ({ base, urls }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const report = {};
      const transports = [];
      for (const [name, url] of Object.entries(urls)) {
        const entry = { closes: [], errors: [], messages: 0, latency: 0, states: [] };
        report[name] = entry;
        const transport = new WebSocketTransport({
          url,
          heartbeatInterval: 1000,
          heartbeatTimeout: 500,
          reconnectInterval: 50,
          reconnectJitter: 0,
        });
        transport.on("close", (close) => entry.closes.push(`${close.code} ${close.reason}`));
        transport.on("error", (error) => entry.errors.push(error.message));
        transport.on("message", () => entry.messages++);
        transport.on("latency", () => entry.latency++);
        transport.on("state", (state) => entry.states.push(state));
        transports.push([transport, entry]);
      }
      // One application message each: the echo server sends it back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const [transport] of transports) transport.send("message", { text: "hello" });
      await new Promise((resolve) => setTimeout(resolve, 8000));
      for (const [transport, entry] of transports) {
        entry.state = transport.state;
        transport.free();
      }
      return report;
    },
    { base: resocket.url, urls },
  );

  // Echo: every ping comes back, and counts as an answer (latency is measured).
  assert.deepEqual(seen.echo.closes, [], JSON.stringify(seen.echo));
  assert.deepEqual(seen.echo.errors, []);
  assert.ok(seen.echo.latency >= 1, "the echoed pings are answers");
  assert.equal(seen.echo.messages, 1, "our message echoed; our pings are not delivered");
  assert.equal(servers.echo.stats.connections, 1);

  // Pushing: it never answers a ping, but talks often enough.
  assert.deepEqual(seen.pusher.closes, [], JSON.stringify(seen.pusher));
  assert.deepEqual(seen.pusher.errors, []);
  assert.ok(seen.pusher.messages > 10, `its frames arrive (${seen.pusher.messages})`);
  assert.equal(seen.pusher.latency, 0, "latency only from answers");
  assert.equal(servers.pusher.stats.connections, 1);

  // Silent: closed once (it might have been a dead link), then kept.
  assert.deepEqual(seen.silent.closes, ["4000 heartbeat timeout"], JSON.stringify(seen.silent));
  assert.equal(seen.silent.errors.length, 2, JSON.stringify(seen.silent.errors));
  assert.match(seen.silent.errors[0], /no ping was ever answered; reconnecting once\. A server that answers no ping needs heartbeatInterval: 0/);
  assert.match(seen.silent.errors[1], /the link is kept and no longer checked/);
  assert.equal(seen.silent.state, "connected");
  assert.equal(servers.silent.stats.connections, 2);
});

test("a server that streams tokens its own way (no seq, no ids) is assembled by resocket/streams", async () => {
  // What the seed's LLM backends send: bare token frames, one reply at a time.
  const llm = await foreignServer((socket) =>
    socket.on("message", (data) => {
      const envelope = JSON.parse(String(data));
      if (envelope.type !== "message") return;
      for (const word of String(envelope.data.text).split(" ")) {
        socket.send(JSON.stringify({ type: "token", data: { token: `${word} `, done: false } }));
      }
      socket.send(JSON.stringify({ type: "token", data: { token: "", done: true } }));
    }),
  );
  try {
    const replies = await page.evaluate(
      async ({ base, url }) => {
        const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
        const { ReplyStreams } = await import(`${base}/pkg/streams.js`);
        await init();
        const transport = new WebSocketTransport({ url, heartbeatInterval: 0 });
        const streams = new ReplyStreams(transport);
        const finished = [];
        const ask = (text) =>
          new Promise((resolve) => {
            const off = streams.onUpdate((reply) => {
              if (!reply.done) return;
              off();
              finished.push(reply);
              resolve();
            });
            transport.send("message", { text });
          });
        await new Promise((resolve) => transport.on("open", resolve));
        await ask("one two three");
        await ask("four five");
        const kept = streams.list().length;
        streams.dispose();
        transport.free();
        return { finished, kept };
      },
      { base: resocket.url, url: llm.url },
    );
    assert.deepEqual(
      replies.finished.map(({ key, text, tokens, interrupted, replyTo }) => ({ key, text, tokens, interrupted, replyTo })),
      [
        { key: "", text: "one two three ", tokens: 4, interrupted: false, replyTo: null },
        { key: "", text: "four five ", tokens: 3, interrupted: false, replyTo: null },
      ],
      "each reply whole; the second starts anew under the one unnamed key",
    );
    assert.equal(replies.kept, 1);
  } finally {
    await llm.close();
  }
});

test("resocket/shared over a plain echo server: two tabs, one connection, each echo once in each, and a takeover", async () => {
  const server = await foreignServer(echo);
  // Two pages of one browser context: the tabs of one origin.
  const context = await browser.newContext();
  try {
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) {
      await tab.goto(`${resocket.url}/health`);
      await tab.evaluate(
        async ({ base, url }) => {
          const { default: init, WebSocketTransport } = await import(`${base}/pkg/shared.js`);
          await init();
          // A server that knows nothing of acks, seqs or sessions: the defaults
          // (at-most-once), and its echo of our pings answers the heartbeat.
          const transport = new WebSocketTransport({ url, reconnectInterval: 50, reconnectJitter: 0, shareAcrossTabs: "foreign" });
          const texts = [];
          transport.onMessage("message", (envelope) => texts.push(envelope.data.text));
          window.shared = { transport, texts };
          while (transport.state !== "connected") await new Promise((resolve) => setTimeout(resolve, 20));
        },
        { base: resocket.url, url: server.url },
      );
    }
    assert.equal(server.stats.connections, 1, "one connection for two tabs");
    const leaders = [];
    for (const tab of tabs) leaders.push(await tab.evaluate(() => window.shared.transport.isLeader));
    assert.deepEqual(leaders, [true, false]);

    // Each tab sends; the server echoes each message once, and each tab hears every echo once.
    for (const [n, tab] of tabs.entries()) await tab.evaluate((n) => window.shared.transport.send("message", { text: `tab ${n}` }), n);
    for (const tab of tabs) await tab.waitForFunction(() => window.shared.texts.length >= 2);
    for (const tab of tabs) assert.deepEqual((await tab.evaluate(() => window.shared.texts)).sort(), ["tab 0", "tab 1"]);

    // The leader's page closes: the other tab connects on its own and goes on.
    await tabs[0].close();
    await tabs[1].waitForFunction(() => window.shared.transport.isLeader && window.shared.transport.state === "connected");
    await tabs[1].evaluate(() => window.shared.transport.send("message", { text: "after" }));
    await tabs[1].waitForFunction(() => window.shared.texts.includes("after"));
    assert.deepEqual(await tabs[1].evaluate(() => window.shared.texts.filter((text) => text === "after")), ["after"]);
    assert.equal(server.stats.connections, 2, "the second tab's own connection");
  } finally {
    await context.close();
    await server.close();
  }
});
