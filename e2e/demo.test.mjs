// The www/ demo in headless Chromium, served with the release pkg/ by the
// resocket server, exactly as `scripts/demo` serves it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { json, launchChromium, screenshot, startServer } from "./support.mjs";

let server;
let browser;
let page;

before(async () => {
  server = await startServer(["--static-dir", "www", "--static-dir", "/pkg=pkg"]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const badge = () => page.locator("#badge");
const sessionId = () => page.locator("#session").textContent();

test("the demo connects and shows a measured latency", async () => {
  await badge().filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 15_000 });
  await page.locator("#latency").filter({ hasText: /^\d+ ms$/ }).waitFor({ timeout: 10_000 });
  assert.equal(await badge().getAttribute("data-state"), "connected");
  assert.match(await sessionId(), /^[0-9a-f-]{36}$/);
  // The sparkline draws the heartbeat samples.
  await page.waitForFunction(() => document.getElementById("spark").getAttribute("points").split(" ").length >= 3, null, {
    timeout: 10_000,
  });
});

test("Drop connection shows reconnecting, then connected again", async () => {
  await page.click("#drop");
  await badge().filter({ hasText: /^Reconnecting \(attempt \d+\)…$/ }).waitFor({ timeout: 5_000 });
  await badge().filter({ hasText: /^Connected/ }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator("#reconnects").textContent(), "1");
});

test("a message typed while the server is down arrives once after recovery", async () => {
  const session = await sessionId();
  await page.click("#down");
  await badge().filter({ hasText: /^Reconnecting/ }).waitFor({ timeout: 5_000 });
  const text = `sent while the server was down ${Date.now()}`;
  await page.fill("#text", text);
  await page.click("button[type=submit]");
  assert.equal(await page.locator("#queued").textContent(), "1");
  await badge().filter({ hasText: /^Connected/ }).waitFor({ timeout: 15_000 });
  await page.locator(".messages li.echo", { hasText: text }).waitFor({ timeout: 5_000 });
  const log = await json(`${server.url}/control/${encodeURIComponent(session)}/log`);
  // At-least-once may put a second copy on the wire (a POST in flight when
  // the WebSocket comes back is re-sent on it); the server handles one.
  const copies = log.frames.filter((frame) => frame.type === "message" && frame.data?.text === text && !frame.duplicate);
  assert.equal(copies.length, 1, `the server handled the message exactly once: ${JSON.stringify(log.frames.slice(-6))}`);
  assert.equal(await page.locator(".messages li.echo", { hasText: text }).count(), 1, "one echo shown");
  await page.locator("#latency").filter({ hasText: /^\d+ ms$/ }).waitFor({ timeout: 5_000 });
  const bytes = await screenshot(page, "demo");
  assert.ok(bytes > 10_000, `screenshot is ${bytes} bytes`);
});

test("Delay pongs 300 ms shows up in the latency", async () => {
  await page.click("#slow");
  await page.locator("#latency").filter({ hasText: /^(3\d\d|[4-9]\d\d) ms$/ }).waitFor({ timeout: 10_000 });
  await page.click("#slow");
});

test("Block WebSocket (force HTTP) carries the chat over HTTP, then moves back", async () => {
  const session = await sessionId();
  await badge().filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 10_000 });
  await page.click("#block");
  await page.locator("#mode").filter({ hasText: /^HTTP$/ }).waitFor({ timeout: 10_000 });
  await badge().filter({ hasText: /^Connected over HTTP$/ }).waitFor({ timeout: 10_000 });
  const text = `sent over HTTP ${Date.now()}`;
  await page.fill("#text", text);
  await page.click("button[type=submit]");
  await page.locator(".messages li.echo", { hasText: text }).waitFor({ timeout: 5_000 });
  const log = await json(`${server.url}/control/${encodeURIComponent(session)}/log`);
  const copies = log.frames.filter((frame) => frame.data?.text === text);
  assert.deepEqual(
    copies.map((frame) => [frame.via, frame.duplicate]),
    [["http", false]],
    "POSTed once, over the fallback",
  );
  const bytes = await screenshot(page, "demo-http");
  assert.ok(bytes > 10_000, `screenshot is ${bytes} bytes`);
  await page.click("#block"); // released: the next probe (every 3 s) moves back
  await page.locator("#mode").filter({ hasText: /^WebSocket$/ }).waitFor({ timeout: 10_000 });
  await badge().filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 10_000 });
  await page.locator("#events li", { hasText: "back on the WebSocket" }).first().waitFor({ timeout: 1_000 });
});

test("Go offline pauses the retries and a queued message arrives once when back online", async () => {
  const session = await sessionId();
  await badge().filter({ hasText: /^Connected/ }).waitFor({ timeout: 10_000 });
  await page.click("#offline");
  await badge().filter({ hasText: /^Reconnecting/ }).waitFor({ timeout: 5_000 });
  // Offline: no retry is scheduled, however long we wait.
  await page.locator("#retry").filter({ hasText: /^–$/ }).waitFor({ timeout: 5_000 });
  const text = `sent while offline ${Date.now()}`;
  await page.fill("#text", text);
  await page.click("button[type=submit]");
  await page.waitForTimeout(1500);
  assert.equal(await page.locator("#retry").textContent(), "–");
  assert.equal(await page.locator("#queued").textContent(), "1");
  await page.click("#offline"); // back online: retries at once
  await badge().filter({ hasText: /^Connected/ }).waitFor({ timeout: 5_000 });
  await page.locator(".messages li.echo", { hasText: text }).waitFor({ timeout: 5_000 });
  const log = await json(`${server.url}/control/${encodeURIComponent(session)}/log`);
  assert.equal(log.frames.filter((frame) => frame.data?.text === text).length, 1);
});

test("Stream a reply grows one bubble word by word; a drop in the middle loses and repeats nothing", async () => {
  await badge().filter({ hasText: /^Connected/ }).waitFor({ timeout: 10_000 });
  await page.click("#stream");
  const bubble = page.locator(".messages li.echo", { hasText: "streaming…" }).last();
  await bubble.filter({ hasText: /^This reply is streamed one word/ }).waitFor({ timeout: 5_000 });
  await page.click("#drop");
  const done = page.locator(".messages li.echo", { hasText: "streamed · " }).last();
  await done.waitFor({ timeout: 15_000 });
  const whole =
    "This reply is streamed one word at a time, numbered like every frame the server sends, " +
    "so a reconnect in the middle loses nothing and repeats nothing.";
  assert.equal(await done.evaluate((item) => item.firstChild.textContent), whole);
  // 27 words and the closing piece.
  assert.match(await done.locator("small").textContent(), /^streamed · 28 pieces$/);
  await screenshot(page, "demo-stream");
});
