// The built package in WebKit, Safari's engine (every iOS browser is
// WebKit): Debian's WebKitGTK MiniBrowser driven through WebKitWebDriver
// (e2e/webdriver.mjs), against the real server. One session goes through
// what a phone's network does to it, in turn: a dropped connection, the
// whole server down, upgrades refused long enough to move the session to
// the HTTP fallback (and back once they pass again), and a dead link that
// loses frames both ways without closing. Messages are sent at-least-once
// the whole time and the server pushes between faults.
//
// At the end: every message acknowledged, and handled by the server once;
// every push delivered once, in order; every echo delivered once. Outcomes
// are counted, never timed: waits are for conditions, with a bound.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { json, startServer } from "./support.mjs";
import { blankPage, launch } from "./webdriver.mjs";

let server;
let browser;
let tab;
const blank = blankPage("webkit");
const session = `webkit-${process.pid}`;
const control = (path) => json(`${server.url}/control/${path}`, { method: "POST" });

before(async () => {
  server = await startServer(blank.mounts);
  browser = await launch("webkit");
  tab = await browser.open(`${server.url}/blank/index.html`);
  await tab.run(
    async (base, session) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const seen = { acked: [], failed: [], replies: [], pushes: [], modes: [], errors: [], states: [] };
      const transport = new WebSocketTransport({
        url: `${base.replace(/^http/, "ws")}/ws`,
        sessionId: session,
        delivery: "at-least-once",
        httpFallbackUrl: `${base}/messages`,
        httpEventsUrl: `${base}/events`,
        fallbackAfterAttempts: 2,
        upgradeProbeInterval: 1000,
        reconnectInterval: 50,
        maxReconnectInterval: 500,
        reconnectJitter: 0,
        maxReconnectAttempts: Infinity,
        // A dead link is found within about a second.
        heartbeatInterval: 500,
        heartbeatTimeout: 500,
        ackTimeout: 2000,
        messageQueueSize: 1000,
      });
      transport.on("message", (message) => {
        if (message.type === "push") seen.pushes.push(message.data.n);
        else if (message.type === "message") seen.replies.push(message.data.n);
      });
      transport.on("mode", (mode) => seen.modes.push(mode));
      transport.on("error", (error) => seen.errors.push(error.message));
      transport.on("state", (state) => seen.states.push(state));
      let next = 0;
      /** Sends `count` messages with acks, numbered on from the last. */
      const sendMany = (count) => {
        for (let i = 0; i < count; i++) {
          const n = next++;
          transport.sendWithAck("message", { n }).then(
            () => seen.acked.push(n),
            (error) => seen.failed.push([n, error.message]),
          );
        }
      };
      Object.assign(globalThis, { transport, seen, sendMany });
    },
    server.url,
    session,
  );
});

after(async () => {
  await tab?.run(() => globalThis.transport?.free()).catch(() => {});
  await browser?.quit();
  await server?.stop();
  blank.remove();
});

/** What the page has seen, and its transport's state and mode. */
const observe = () =>
  tab.run(() => ({ ...seen, state: transport.state, mode: transport.getSnapshot().mode, queued: transport.queueLength }));

/** Resolves once `check(seen)` holds in the page; rejects after 20 s saying what it saw. */
async function until(what, check) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const seen = await observe();
    if (check(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let sent = 0;
let pushed = 0;
/** Sends 5 messages (from the page) and makes 3 pushes (from the server). */
async function traffic() {
  await tab.run(() => sendMany(5));
  sent += 5;
  await control(`${session}/push?count=3&first=${pushed + 1}`);
  pushed += 3;
}

test("in WebKit, through a drop, an outage, the HTTP fallback and a dead link: nothing lost, nothing twice", { timeout: 120_000 }, async () => {
  await until("connected", (seen) => seen.state === "connected");
  await traffic();
  await until("the first acks and pushes", (seen) => seen.acked.length === sent && seen.pushes.length === pushed);

  // A dropped connection: reconnects and resumes.
  await control(`${session}/drop`);
  await traffic();
  await until("the acks and pushes after the drop", (seen) => seen.acked.length === sent && seen.pushes.length === pushed);

  // The whole server down for 1.5 s, messages sent meanwhile.
  await control("down?ms=1500");
  await tab.run(() => sendMany(5));
  sent += 5;
  await until("the acks after the outage", (seen) => seen.acked.length === sent && seen.state === "connected");

  // Upgrades refused: the session moves to the HTTP fallback, works there,
  // and moves back once they pass again.
  await control(`${session}/refuse?ms=4000`);
  await control(`${session}/drop`);
  await until("the fallback", (seen) => seen.mode === "http" && seen.state === "connected");
  await traffic();
  await until("the acks and pushes over HTTP", (seen) => seen.acked.length === sent && seen.pushes.length === pushed);
  await until("back on the WebSocket", (seen) => seen.mode === "websocket" && seen.state === "connected");

  // A dead link: frames lost both ways, no close. The heartbeat notices.
  await control(`${session}/blackhole?ms=1500`);
  await traffic();
  const seen = await until("everything, after the dead link", (seen) => seen.acked.length === sent && seen.pushes.length === pushed && seen.replies.length >= sent);

  assert.deepEqual(seen.failed, []);
  assert.deepEqual(
    [...seen.acked].sort((a, b) => a - b),
    Array.from({ length: sent }, (_, n) => n),
    "every message acknowledged",
  );
  assert.deepEqual(seen.pushes, Array.from({ length: pushed }, (_, n) => n + 1), "every push once, in order");
  assert.deepEqual(
    [...seen.replies].sort((a, b) => a - b),
    Array.from({ length: sent }, (_, n) => n),
    "every echo once",
  );
  // Through the fallback and back. The dead link may cost one more cycle
  // under the suite's load (reconnects that time out fall back again, and
  // the probe brings the session back): what must hold is that the modes
  // alternate and that it ends on the WebSocket.
  assert.equal(seen.modes.length % 2, 0, `modes: ${seen.modes}`);
  assert.deepEqual(seen.modes, seen.modes.map((_, n) => (n % 2 ? "websocket" : "http")), "the fallback, then back, each time");
  assert.ok(seen.modes.length >= 2, "the fallback was taken");
  assert.equal(seen.queued, 0);
  const log = await json(`${server.url}/control/${session}/log`);
  const handled = log.frames.filter((frame) => frame.type === "message" && !frame.duplicate).map((frame) => frame.data.n);
  assert.deepEqual(
    [...handled].sort((a, b) => a - b),
    Array.from({ length: sent }, (_, n) => n),
    "the server handled each message once",
  );
});
