// One connection for all tabs (`resocket/shared`, `shareAcrossTabs`) in
// headless Chromium and Firefox, several tabs of one browser (through their
// WebDriver drivers, e2e/webdriver.mjs), against the real server:
// - with Web Locks, and without them (the lease over the channel):
//   three tabs hold one server connection and one session; each sees every
//   reply once, and each `sendWithAck` settles in the tab that sent it;
//   a tab opened later shows the shared snapshot without waiting for news;
// - the leader's tab is closed in the middle of a push stream, of a streamed
//   reply and of the other tabs' sends, its socket blackholed so that what
//   it was sending is unacknowledged: another tab takes over, and the count
//   shows nothing lost and nothing twice, both ways, each tab's order kept
//   (the server's session log says what it handled);
// - a leader that the browser freezes steps down and follows when thawed;
// - when the last tab closes, or every tab's transport is freed, the
//   connection closes.
// Outcomes are counted, never timed: waits are for conditions, with a bound.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { json, startServer } from "./support.mjs";
import { BROWSERS, blankPage, launch } from "./webdriver.mjs";

let server;
const blank = blankPage("tabs");

before(async () => {
  server = await startServer(blank.mounts);
});

after(async () => {
  await server?.stop();
  blank.remove();
});

/** Resolves once `check()` is true, polling; rejects after `bound` ms saying `what` (and what `explain()` finds). */
async function until(what, check, bound = 20_000, explain) {
  const deadline = Date.now() + bound;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}${explain ? `: ${await explain()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The server's live and accepted WebSocket connections. */
const sockets = async () => (await json(`${server.url}/health`)).websocket;

/**
 * Opens a tab whose page creates a shared transport named `key` and records
 * what it hears in `window.tab`: frames (`got`), events, settled sends.
 * With `election` "lease" the page has no Web Locks (as on an insecure
 * origin), so the tabs elect by lease over their channel.
 */
async function openTab(browser, key, election = "locks", extra = {}) {
  const tab = await browser.open(`${server.url}/blank/index.html`);
  await tab.run(
    async (base, key, election, extra) => {
      if (election === "lease") Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/shared.js`);
      const { ReplyStreams } = await import(`${base}/pkg/streams.js`);
      await init();
      const transport = new WebSocketTransport({
        url: `${base.replace(/^http/, "ws")}/ws`,
        delivery: "at-least-once",
        reconnectInterval: 50,
        reconnectJitter: 0,
        // A blackholed socket is found dead within about a second, and what
        // the tabs send meanwhile fits the shared queue.
        heartbeatInterval: 500,
        heartbeatTimeout: 500,
        messageQueueSize: 1000,
        shareAcrossTabs: key,
        ...extra,
      });
      const record = { transport, got: [], errors: [], acked: [], failed: [], changes: 0, replies: new ReplyStreams(transport) };
      transport.on("message", (message) => record.got.push(message));
      transport.on("error", (error) => record.errors.push(String(error)));
      transport.subscribe(() => record.changes++);
      /** Sends `count` messages `spacing` ms apart, texts `${label}-${n}`, each with sendWithAck. */
      record.sendMany = (label, count, spacing) =>
        new Promise((resolve) => {
          let n = 0;
          const next = () => {
            n++;
            transport.sendWithAck("message", { text: `${label}-${n}` }).then(
              (id) => record.acked.push(id),
              (error) => record.failed.push(String(error)),
            );
            if (n >= count) resolve(undefined);
            else if (spacing) setTimeout(next, spacing);
            else next();
          };
          next();
        });
      window.tab = record;
    },
    server.url,
    key,
    election,
    extra,
  );
  return tab;
}

/** In `tab`: what its transport shows and what it heard. */
const look = (tab) =>
  tab.run(() => {
    const { transport, got, errors, acked, failed } = window.tab;
    return {
      leader: transport.isLeader,
      withoutLocks: !navigator.locks,
      snapshot: transport.snapshot(),
      sessionId: transport.sessionId,
      texts: got.filter((m) => m.type === "message").map((m) => m.data.text),
      pushes: got.filter((m) => m.type === "push").map((m) => m.data.n),
      seqs: got.map((m) => m.seq).filter((seq) => typeof seq === "number"),
      errors,
      acked,
      failed,
    };
  });

/**
 * `look` in each tab, one after the other: a WebDriver session runs a script
 * in its current tab, so calls into different tabs must not overlap.
 */
async function lookAll(tabs) {
  const seen = [];
  for (const tab of tabs) seen.push(await look(tab));
  return seen;
}

/** How often each value occurs in `list`: the values seen other than once. */
function notOnce(list, expected) {
  const counts = new Map(expected.map((value) => [value, 0]));
  for (const value of list) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].filter(([, count]) => count !== 1);
}

for (const name of BROWSERS) {
  describe(name, () => {
    let browser;
    let anchor; // keeps the browser session open while the tabs under test close
    before(async () => {
      browser = await launch(name);
      anchor = await browser.open(`${server.url}/blank/index.html`);
    });
    after(async () => {
      await browser?.quit();
    });

    // Web Locks where the page has them; a lease over the channel where not.
    for (const election of ["locks", "lease"]) {
      test(`${election}: three tabs hold one connection; each hears every reply once and settles only its own sends`, { timeout: 60_000 }, async () => {
        const before = await sockets();
        const tabs = [];
        for (let n = 0; n < 3; n++) tabs.push(await openTab(browser, `${name}-${election}-three`, election));
        await until("every tab connected", async () => (await lookAll(tabs)).every((seen) => seen.snapshot.state === "connected"));
        const after = await sockets();
        assert.equal(after.accepted - before.accepted, 1, "one connection was made for three tabs");
        assert.equal(after.connections - before.connections, 1);
        const seen = await lookAll(tabs);
        assert.deepEqual(
          seen.map((tab) => tab.leader),
          [true, false, false],
          "the first tab leads",
        );
        assert.equal(new Set(seen.map((tab) => tab.sessionId)).size, 1, "one session");
        assert.ok(seen.every((tab) => tab.withoutLocks === (election === "lease")), `the ${election} election`);

        const ids = [];
        for (const [n, tab] of tabs.entries()) {
          ids.push(await tab.run((n) => window.tab.transport.sendWithAck("message", { text: `tab-${n}` }), n));
        }
        const prefixes = ids.map((id) => id.replace(/-\d+$/, ""));
        assert.equal(new Set(prefixes).size, 3, `each tab's promise settled with its own id: ${ids}`);
        const texts = ["tab-0", "tab-1", "tab-2"];
        await until("every echo in every tab", async () => (await lookAll(tabs)).every((tab) => tab.texts.length >= 3));
        for (const tab of await lookAll(tabs)) {
          assert.deepEqual(tab.texts, texts, "each echo once, in order");
          assert.deepEqual(tab.errors, []);
        }

        // A tab opened now shows the shared snapshot once the leader answers
        // its hello, with nothing new from the server in between.
        const late = await openTab(browser, `${name}-${election}-three`, election);
        await until("the late tab's first snapshot", () => late.run(() => window.tab.changes > 0));
        const [leader, newcomer] = await lookAll([tabs[0], late]);
        assert.equal(newcomer.leader, false);
        for (const field of ["state", "sessionId", "lastSeq", "mode"]) {
          assert.equal(newcomer.snapshot[field], leader.snapshot[field], field);
        }
        assert.deepEqual(newcomer.texts, [], "the frames before it joined are not replayed to it");
        assert.equal((await sockets()).accepted - before.accepted, 1, "still one connection");
        for (const tab of [...tabs, late]) await tab.close();
      });

      // WebKit stalls the timers of background tabs, and with them this
      // test's own spaced senders (sendMany's loop stopped at 80 of 100 once
      // the leader's tab closed, in both elections). The transports do not
      // stall there: the background tab that takes over reconnects, resends
      // and delivers every push and echo. So in WebKit the followers send
      // their 100 at once, still unacknowledged when the leader goes.
      const spacing = name === "webkit" ? 0 : 8;
      test(`${election}: the leader's tab closed mid-stream: another takes over, nothing lost or twice, both ways`, { timeout: 90_000 }, async () => {
        const before = await sockets();
        const [a, b, c] = [await openTab(browser, `${name}-${election}-chaos`, election), await openTab(browser, `${name}-${election}-chaos`, election), await openTab(browser, `${name}-${election}-chaos`, election)];
        await until("every tab connected", async () => (await lookAll([a, b, c])).every((seen) => seen.snapshot.state === "connected"));
        assert.equal((await look(a)).leader, true);
        const session = (await look(a)).sessionId;
        const PUSHES = 200;
        const words = Array.from({ length: 40 }, (_, n) => `w${n + 1}`).join(" ");

        // Server → tabs: 200 numbered pushes and a reply streamed word by word.
        await fetch(`${server.url}/control/${session}/push?count=${PUSHES}&interval_ms=10`, { method: "POST" });
        await b.run((text) => window.tab.transport.sendWithAck("stream", { stream: "r", text, intervalMs: 20 }), words);
        // Tabs → server: 100 from each follower, and 20 from the leader just before it goes.
        await b.run((spacing) => void window.tab.sendMany("b", 100, spacing), spacing);
        await c.run((spacing) => void window.tab.sendMany("c", 100, spacing), spacing);
        await until("the followers got 50 pushes", async () => (await look(b)).pushes.length >= 50);
        // The leader's socket loses every frame from now on: what the tabs
        // send is written and never acknowledged, so it is still in every
        // tab's mirror when the leader goes, and the next leader must re-send it.
        await fetch(`${server.url}/control/${session}/blackhole?ms=300`, { method: "POST" });
        await a.run(() => window.tab.sendMany("a", 20, 0));
        await a.close();

        await until("a follower took over", async () => (await look(b)).leader || (await look(c)).leader);
        const sent = [
          ...Array.from({ length: 20 }, (_, n) => `a-${n + 1}`),
          ...Array.from({ length: 100 }, (_, n) => `b-${n + 1}`),
          ...Array.from({ length: 100 }, (_, n) => `c-${n + 1}`),
        ];
        await until(
          "every push, reply and echo in both tabs",
          async () =>
            (await lookAll([b, c])).every(
              (tab) => tab.pushes.length >= PUSHES && tab.texts.length >= sent.length && tab.acked.length + tab.failed.length >= 100,
            ) &&
            (await b.run(() => window.tab.replies.get("r")?.done === true)) &&
            (await c.run(() => window.tab.replies.get("r")?.done === true)),
          60_000,
          async () => {
            const seen = await lookAll([b, c]);
            return JSON.stringify(seen.map((tab) => ({ leader: tab.leader, pushes: tab.pushes.length, texts: tab.texts.length, acked: tab.acked.length, failed: tab.failed, errors: tab.errors, state: tab.snapshot.state, missing: sent.filter((text) => !tab.texts.includes(text)) })));
          },
        );
        for (const [label, tab] of [
          ["b", b],
          ["c", c],
        ]) {
          const seen = await look(tab);
          const expected = Array.from({ length: PUSHES }, (_, n) => n + 1);
          assert.deepEqual(notOnce(seen.pushes, expected), [], `${label}: every push once`);
          assert.deepEqual(seen.pushes, expected, `${label}: pushes in order`);
          assert.deepEqual(notOnce(seen.texts, sent), [], `${label}: every echo once`);
          assert.equal(new Set(seen.seqs).size, seen.seqs.length, `${label}: no seq delivered twice`);
          assert.deepEqual(seen.failed, [], `${label}: no send failed`);
          assert.equal(seen.acked.length, 100, `${label}: each of its sends acknowledged`);
          assert.ok(seen.acked.every((id) => id.startsWith(seen.acked[0].replace(/-\d+$/, "-"))), `${label}: only its own ids`);
          const reply = await tab.run(() => window.tab.replies.get("r"));
          assert.equal(reply.text, words, `${label}: the streamed reply whole`);
          assert.equal(reply.interrupted, false);
          // The only errors: the blackholed socket's silence, found by the heartbeat.
          assert.deepEqual(seen.errors.filter((error) => !error.includes("heartbeat")), []);
        }

        // What the server handled: each message once (a re-sent copy is
        // marked a duplicate and not handled again), each tab's in its order.
        const log = await json(`${server.url}/control/${session}/log`);
        const handled = log.frames.filter((frame) => frame.type === "message" && !frame.duplicate).map((frame) => frame.data.text);
        assert.deepEqual(notOnce(handled, sent), [], "the server handled every message once");
        for (const label of ["a", "b", "c"]) {
          const mine = handled.filter((text) => text.startsWith(`${label}-`)).map((text) => Number(text.slice(2)));
          assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `${label}'s messages in the order sent`);
        }
        const now = await sockets();
        assert.ok(now.accepted - before.accepted >= 2, "the first leader's connection, then the second's");
        await until("one connection left", async () => (await sockets()).connections - before.connections === 1);
        await b.close();
        await c.close();
      });
    }

    test("over the HTTP fallback: one event stream for the tabs, and a follower's sends go through the leader's POSTs", { timeout: 60_000 }, async () => {
      const before = await json(`${server.url}/health`);
      const http = { enableWebSocket: false, url: undefined, httpFallbackUrl: `${server.url}/messages`, httpEventsUrl: `${server.url}/events` };
      const tabs = [await openTab(browser, `${name}-http`, "locks", http), await openTab(browser, `${name}-http`, "locks", http)];
      await until("both connected over HTTP", async () =>
        (await lookAll(tabs)).every((seen) => seen.snapshot.state === "connected" && seen.snapshot.mode === "http"),
      );
      const after = await json(`${server.url}/health`);
      assert.equal(after.eventStreams - before.eventStreams, 1, "one event stream for two tabs");
      assert.equal(after.websocket.accepted, before.websocket.accepted, "no socket");
      const id = await tabs[1].run(() => window.tab.transport.sendWithAck("message", { text: "over http" }));
      assert.match(id, /-1$/);
      await until("the echo in both tabs", async () => (await lookAll(tabs)).every((tab) => tab.texts.includes("over http")));
      for (const tab of tabs) await tab.close();
    });

    test("a frozen leader steps down and follows when thawed", { timeout: 60_000 }, async () => {
      const [a, b] = [await openTab(browser, `${name}-freeze`), await openTab(browser, `${name}-freeze`)];
      await until("both connected", async () => (await lookAll([a, b])).every((seen) => seen.snapshot.state === "connected"));
      // The event the browser fires before it freezes a page (Chromium's
      // Page Lifecycle), dispatched as the browser would.
      await a.run(() => document.dispatchEvent(new Event("freeze")));
      await until("the other tab leads", async () => (await look(b)).leader);
      await until("it is connected", async () => (await look(b)).snapshot.state === "connected");
      await a.run(() => document.dispatchEvent(new Event("resume")));
      await until("the thawed tab shows the leader's snapshot", async () => (await look(a)).snapshot.state === "connected");
      const [thawed, leader] = await lookAll([a, b]);
      assert.equal(thawed.leader, false, "the thawed tab follows");
      assert.equal(thawed.sessionId, leader.sessionId, "one session throughout");
      await a.run(() => window.tab.transport.sendWithAck("message", { text: "after the thaw" }));
      await until("the echo reaches both", async () => (await lookAll([a, b])).every((tab) => tab.texts.includes("after the thaw")));
      await a.close();
      await b.close();
    });

    test("when the last tab closes, the connection closes", { timeout: 60_000 }, async () => {
      const before = await sockets();
      const tabs = [await openTab(browser, `${name}-last`), await openTab(browser, `${name}-last`)];
      await until("both connected", async () => (await lookAll(tabs)).every((seen) => seen.snapshot.state === "connected"));
      assert.equal((await sockets()).connections - before.connections, 1);
      await tabs[0].close();
      await until("the second tab leads", async () => (await look(tabs[1])).leader);
      await tabs[1].close();
      await until("no connection is left", async () => (await sockets()).connections === before.connections);
      assert.ok(anchor, "the anchor tab kept the browser open");
    });

    test("when every tab's transport is freed, the connection closes and the pages stay", { timeout: 60_000 }, async () => {
      const before = await sockets();
      const tabs = [await openTab(browser, `${name}-free`), await openTab(browser, `${name}-free`)];
      await until("both connected", async () => (await lookAll(tabs)).every((seen) => seen.snapshot.state === "connected"));
      await tabs[0].run(() => window.tab.transport.free());
      await until("the second tab leads", async () => (await look(tabs[1])).leader);
      await until("it is connected", async () => (await look(tabs[1])).snapshot.state === "connected");
      assert.equal((await sockets()).connections - before.connections, 1, "the freed leader's socket closed, the next one's is open");
      await tabs[1].run(() => window.tab.transport.free());
      await until("no connection is left", async () => (await sockets()).connections === before.connections);
      for (const tab of tabs) await tab.close();
    });
  });
}
