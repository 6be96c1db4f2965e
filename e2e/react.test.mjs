// resocket/react's useTransport in headless Chromium, under StrictMode,
// against real servers: one socket per mounted component, re-created when an
// option changes and only then, the latest url function called, freed on
// unmount, and failures (a .wasm that does not load, a bad option) shown as
// state, never as an unhandled rejection. The page is e2e/react/harness.tsx,
// bundled here with esbuild against the built pkg/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { ROOT, json, launchChromium, startServer } from "./support.mjs";

let site; // serves the bundled harness, with the .wasm
let broken; // serves it without the .wasm
let serverA;
let serverB;
let browser;
let page;
let pageErrors;
const dirs = [];

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "resocket-react-"));
  dirs.push(dir);
  execFileSync(
    join(ROOT, "node_modules/.bin/esbuild"),
    [
      join(ROOT, "e2e/react/harness.tsx"),
      "--bundle",
      "--format=esm",
      "--jsx=automatic",
      "--log-level=warning",
      `--alias:resocket=${join(ROOT, "pkg")}`,
      "--define:process.env.NODE_ENV=\"development\"",
      `--outfile=${join(dir, "harness.js")}`,
    ],
    { cwd: ROOT },
  );
  copyFileSync(join(ROOT, "e2e/react/index.html"), join(dir, "index.html"));
  const withoutWasm = mkdtempSync(join(tmpdir(), "resocket-react-broken-"));
  dirs.push(withoutWasm);
  cpSync(dir, withoutWasm, { recursive: true });
  // The glue asks for resocket_bg.wasm beside the bundle (new URL(…, import.meta.url)).
  copyFileSync(join(ROOT, "pkg/resocket_bg.wasm"), join(dir, "resocket_bg.wasm"));
  copyFileSync(join(ROOT, "pkg/resocket_shared_bg.wasm"), join(dir, "resocket_shared_bg.wasm"));
  site = await startServer(["--static-dir", dir]);
  broken = await startServer(["--static-dir", withoutWasm]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([site, broken, serverA, serverB].map((server) => server?.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await Promise.all([serverA, serverB].map((server) => server?.stop()));
  serverA = await startServer([]);
  serverB = await startServer([]);
  page = await browser.newPage();
  pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${site.url}/index.html`);
  await page.waitForFunction(() => typeof window.render === "function");
});

const wsUrl = (server) => `${server.url.replace(/^http/, "ws")}/ws`;
const render = (props) => page.evaluate((props) => window.render(props), props);
const probe = (name) => page.locator("#probe").getAttribute(`data-${name}`);
const health = (server) => json(`${server.url}/health`);

async function waitForState(state) {
  await page.locator(`#probe[data-state="${state}"]`).waitFor({ state: "attached", timeout: 20_000 });
}

/** Until the server's open sockets are `count` (a close travels asynchronously). */
async function waitForConnections(server, count) {
  for (;;) {
    if ((await health(server)).websocket.connections === count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A round trip through the current transport and the server: everything the page started before it has run. */
async function roundTrip() {
  await page.evaluate(async () => {
    const transport = window.transports.at(-1);
    const echo = new Promise((resolve) => {
      const off = transport.onMessage("message", (envelope) => {
        if (envelope.data?.probe) {
          off();
          resolve();
        }
      });
    });
    transport.send("message", { probe: true });
    await echo;
  });
}

test("under StrictMode one socket; re-renders with equal options keep the transport", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA) });
  await waitForState("connected");
  const session = await probe("session");
  for (let i = 0; i < 3; i++) await render({ mounted: true, url: wsUrl(serverA), extra: { heartbeatInterval: 30000 } });
  // Changing from "absent" to 30000 is a change: one re-creation, no more.
  await page.waitForFunction(() => window.transports.length === 2);
  await waitForState("connected");
  for (let i = 0; i < 3; i++) await render({ mounted: true, url: wsUrl(serverA), extra: { heartbeatInterval: 30000 } });
  await roundTrip();
  assert.equal(await page.evaluate(() => window.transports.length), 2, "equal options: same transport");
  assert.notEqual(await probe("session"), session);
  await waitForConnections(serverA, 1);
  assert.equal((await health(serverA)).websocket.accepted, 2, "StrictMode's rehearsal opened nothing");
  assert.deepEqual(pageErrors, []);
});

test("a new url re-creates the transport: the old socket closes, the new server gets one", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA) });
  await waitForState("connected");
  await render({ mounted: true, url: wsUrl(serverB) });
  await page.waitForFunction(() => window.transports.length === 2);
  await waitForState("connected");
  await waitForConnections(serverA, 0);
  assert.equal((await health(serverB)).websocket.accepted, 1);
  assert.equal((await health(serverA)).websocket.accepted, 1);
  // The replaced transport was freed: using it says so.
  const error = await page.evaluate(() => {
    try {
      return window.transports[0].state;
    } catch (error) {
      return error.message;
    }
  });
  assert.match(error, /this transport was freed/);
  assert.deepEqual(pageErrors, []);
});

test("a url function new on every render: nothing re-created, the latest one is called", { timeout: 60_000 }, async () => {
  await page.evaluate((url) => (window.socketUrl = url), wsUrl(serverA));
  await render({ mounted: true, url: "function", urlFunction: true });
  await waitForState("connected");
  await page.evaluate((url) => (window.socketUrl = url), wsUrl(serverB));
  for (let i = 0; i < 3; i++) await render({ mounted: true, url: "function", urlFunction: true });
  await roundTrip();
  assert.equal(await page.evaluate(() => window.transports.length), 1);
  // The next attempt asks the function again: it now answers server B.
  await page.evaluate(() => window.transports[0].reconnect());
  await waitForConnections(serverB, 1);
  await waitForState("connected");
  assert.equal((await health(serverB)).websocket.accepted, 1);
  await waitForConnections(serverA, 0);
});

test("unmounting frees the transport: the server sees its socket close", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA) });
  await waitForState("connected");
  await render({ mounted: false, url: null });
  await waitForState("unmounted");
  await waitForConnections(serverA, 0);
  assert.match(await page.evaluate(() => window.transports[0].sendRaw("x").toString()).catch((error) => error.message), /freed/);
});

test("null options: no transport until there are options, then exactly one", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: null });
  await page.locator("#probe[data-commits]").waitFor({ state: "attached" });
  assert.equal(await probe("state"), "none");
  assert.equal(await probe("error"), "");
  await render({ mounted: true, url: wsUrl(serverA) });
  await waitForState("connected");
  await roundTrip();
  assert.equal((await health(serverA)).websocket.accepted, 1);
});

test("a bad or misspelled option is an error state naming it, not a throw", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA), extra: { reconnectInterval: -5 } });
  await page.locator('#probe:not([data-error=""])').waitFor({ state: "attached" });
  assert.equal(
    await probe("error"),
    "RangeError: resocket: reconnectInterval must be a finite number of milliseconds from 0 to 2147483647, got -5",
  );
  await render({ mounted: true, url: wsUrl(serverA), extra: { reconectInterval: 500 } });
  await page.locator('#probe[data-error^="TypeError"]').waitFor({ state: "attached" });
  assert.equal(await probe("error"), "TypeError: resocket: reconectInterval is not an option (did you mean reconnectInterval?), got 500");
  // Fixed: the transport comes up.
  await render({ mounted: true, url: wsUrl(serverA), extra: { reconnectInterval: 500 } });
  await waitForState("connected");
  assert.equal(await probe("error"), "");
  assert.deepEqual(pageErrors, []);
});

test("a .wasm that does not load is an error state saying which URL and why, not an unhandled rejection", { timeout: 60_000 }, async () => {
  await page.goto(`${broken.url}/index.html`);
  await page.waitForFunction(() => typeof window.render === "function");
  await render({ mounted: true, url: wsUrl(serverA) });
  await page.locator('#probe:not([data-error=""])').waitFor({ state: "attached", timeout: 20_000 });
  assert.equal(
    await probe("error"),
    `Error: resocket: could not load resocket_bg.wasm from ${broken.url}/resocket_bg.wasm: HTTP 404 — see https://github.com/resocket/resocket#bundlers`,
  );
  assert.equal(await probe("state"), "none");
  assert.deepEqual(pageErrors, [], "no unhandled rejection");
  assert.equal((await health(serverA)).websocket.accepted, 0);
});

const send = (text) => page.evaluate((text) => window.transports.at(-1).send("message", { text }), text);

test("useMessages keeps the last `limit` of its type, and starts empty for another transport", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA) });
  await waitForState("connected");
  for (const text of ["m1", "m2", "m3", "m4", "m5"]) await send(text);
  await page.locator('#probe[data-received="m3|m4|m5"]').waitFor({ state: "attached", timeout: 20_000 });
  await render({ mounted: true, url: wsUrl(serverB) });
  await page.waitForFunction(() => window.transports.length === 2);
  await waitForState("connected");
  assert.equal(await probe("received"), "", "a new transport: an empty list");
  await send("n1");
  await page.locator('#probe[data-received="n1"]').waitFor({ state: "attached", timeout: 20_000 });
  assert.deepEqual(pageErrors, []);
});

test("useOnMessage calls the latest handler, once per envelope", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA), tag: "first" });
  await waitForState("connected");
  await send("x");
  await page.waitForFunction(() => window.handled.length === 1);
  for (let i = 0; i < 3; i++) await render({ mounted: true, url: wsUrl(serverA), tag: "second" });
  await send("y");
  await page.waitForFunction(() => window.handled.length >= 2);
  await roundTrip(); // anything else on its way has arrived
  assert.deepEqual(
    await page.evaluate(() => window.handled.filter((entry) => !entry.endsWith(":undefined"))),
    ["first:x", "second:y"],
  );
});

test("useOutbox: acknowledged with at-least-once; failed, with the reason, without it or without a transport", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: null });
  await page.waitForFunction(() => window.outbox !== undefined);
  await page.evaluate(() => window.outbox.send("message", { text: "early" }));
  await page.locator('#probe[data-outbox="early:failed"]').waitFor({ state: "attached", timeout: 20_000 });
  assert.match(await probe("outbox-errors"), /there is no transport yet/);

  await render({ mounted: true, url: wsUrl(serverA), extra: { delivery: "at-least-once" } });
  await waitForState("connected");
  await page.evaluate(() => window.outbox.send("message", { text: "sure" }));
  await page.locator('#probe[data-outbox="early:failed|sure:acknowledged"]').waitFor({ state: "attached", timeout: 20_000 });
  const log = await json(`${serverA.url}/control/${encodeURIComponent(await probe("session"))}/log`);
  assert.equal(log.frames.filter((frame) => frame.data?.text === "sure").length, 1);

  await render({ mounted: true, url: wsUrl(serverA) });
  await page.waitForFunction(() => window.transports.length === 2);
  await waitForState("connected");
  await page.evaluate(() => window.outbox.send("message", { text: "unsure" }));
  await page.locator('#probe[data-outbox$="unsure:failed"]').waitFor({ state: "attached", timeout: 20_000 });
  assert.match(await probe("outbox-errors"), /sendWithAck needs the option delivery: "at-least-once"/);
  assert.deepEqual(pageErrors, []);
});

test("useReplyStreams and useReplyStream render a streamed reply as it grows, through a dropped connection", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA), extra: { delivery: "at-least-once" }, replyKey: "r2" });
  await waitForState("connected");
  assert.equal(await probe("followed"), "none", "nothing under the key yet");
  const ask = (stream, text) =>
    page.evaluate(({ stream, text }) => window.transports.at(-1).sendWithAck("stream", { stream, text, intervalMs: 20 }), { stream, text });
  await ask("r1", "a b c");
  await page.locator('#probe[data-replies="r1:a b c:done"]').waitFor({ state: "attached", timeout: 20_000 });
  await ask("r2", "one two three four five six seven eight");
  // In the middle of it the socket drops: the rest comes by resume, each word once.
  await page.locator('#probe[data-followed^="one two "]').waitFor({ state: "attached", timeout: 20_000 });
  await json(`${serverA.url}/control/${encodeURIComponent(await probe("session"))}/drop`, { method: "POST" });
  await page
    .locator('#probe[data-followed="one two three four five six seven eight:done"]')
    .waitFor({ state: "attached", timeout: 20_000 });
  assert.equal(await probe("replies"), "r1:a b c:done|r2:one two three four five six seven eight:done");
  // Following another key shows that reply at once; a new transport starts empty.
  await render({ mounted: true, url: wsUrl(serverA), extra: { delivery: "at-least-once" }, replyKey: "r1" });
  assert.equal(await probe("followed"), "a b c:done");
  await render({ mounted: true, url: wsUrl(serverB), extra: { delivery: "at-least-once" }, replyKey: "r1" });
  await page.waitForFunction(() => window.transports.length === 2);
  await page.locator('#probe[data-replies=""][data-followed="none"]').waitFor({ state: "attached", timeout: 20_000 });
  assert.deepEqual(pageErrors, []);
});

test("Infinity and the default are different values; undefined and absent are the same", { timeout: 60_000 }, async () => {
  await render({ mounted: true, url: wsUrl(serverA), extra: { maxReconnectAttempts: Infinity } });
  await waitForState("connected");
  await render({ mounted: true, url: wsUrl(serverA), extra: { maxReconnectAttempts: undefined } });
  await page.waitForFunction(() => window.transports.length === 2);
  await waitForState("connected");
  await render({ mounted: true, url: wsUrl(serverA) });
  await roundTrip();
  assert.equal(await page.evaluate(() => window.transports.length), 2, "absent = undefined: the same transport");
  await waitForConnections(serverA, 1);
  assert.deepEqual(pageErrors, []);
});

test("shareAcrossTabs: two pages of one browser hold one socket, each with the whole API", { timeout: 60_000 }, async () => {
  // Two pages of one browser context: the tabs of one origin.
  const context = await browser.newContext();
  const pages = [await context.newPage(), await context.newPage()];
  const props = { mounted: true, url: wsUrl(serverA), extra: { delivery: "at-least-once", shareAcrossTabs: "react" } };
  const attribute = (tab, name) => tab.locator("#probe").getAttribute(`data-${name}`);
  const shows = (tab, selector) => tab.locator(`#probe${selector}`).waitFor({ state: "attached", timeout: 20_000 });
  try {
    for (const tab of pages) {
      tab.on("pageerror", (error) => pageErrors.push(error.message));
      await tab.goto(`${site.url}/index.html`);
      await tab.waitForFunction(() => typeof window.render === "function");
      await tab.evaluate((props) => window.render(props), props);
      await shows(tab, '[data-state="connected"]');
    }
    assert.equal((await health(serverA)).websocket.accepted, 1, "one socket for both pages (and none for StrictMode's rehearsals)");
    const leaders = [];
    for (const tab of pages) leaders.push(await tab.evaluate(() => window.transports.at(-1).isLeader));
    assert.deepEqual(leaders, [true, false]);
    assert.equal(await attribute(pages[1], "session"), await attribute(pages[0], "session"), "one session");
    // The follower's outbox is settled through the leader's socket, and the echo reaches both pages.
    await pages[1].evaluate(() => window.outbox.send("message", { text: "shared" }));
    await shows(pages[1], '[data-outbox="shared:acknowledged"]');
    for (const tab of pages) await shows(tab, '[data-received="shared"]');
    assert.equal(await attribute(pages[0], "outbox"), "", "the message was the second page's, not the first's");
  } finally {
    await context.close();
  }
  assert.deepEqual(pageErrors, []);
});
