// examples/vite-react-chat, built (`vite build`) and served by the resocket
// server, in headless Chromium: connect, send, receive the echo, and the
// status line in the seed store's format.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort, json, launchChromium, screenshot, startServer } from "./support.mjs";

let server;
let browser;
let page;

before(async () => {
  server = await startServer(["--static-dir", "examples/vite-react-chat/dist"]);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const status = () => page.getByRole("status");

test("the Vite chat connects with one socket and shows the seed's status line", async () => {
  await status().filter({ hasText: /^Connected \((\d+|…)ms\)$/ }).waitFor({ timeout: 15_000 });
  await status().filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 10_000 });
  assert.match(await status().getAttribute("class"), /\bgreen\b/);
  const health = await json(`${server.url}/health`);
  assert.equal(health.websocket.connections, 1, "one socket per mounted chat");
});

test("a sent message comes back as the server's echo", async () => {
  const text = `hello from vite ${Date.now()}`;
  await page.getByLabel("Message").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("li.me", { hasText: text }).waitFor();
  await page.locator("li.server", { hasText: text }).waitFor({ timeout: 5_000 });
  const bytes = await screenshot(page, "vite-react-chat");
  assert.ok(bytes > 5_000, `screenshot is ${bytes} bytes`);
});

test("a drop shows the yellow reconnecting line, then connected again", async () => {
  const health = await json(`${server.url}/health`);
  assert.equal(health.websocket.connections, 1);
  await fetch(`${server.url}/control/down?ms=1500`, { method: "POST" });
  await status().filter({ hasText: /^Reconnecting \(attempt \d+\)…$/ }).waitFor({ timeout: 5_000 });
  assert.match(await status().getAttribute("class"), /\byellow\b/);
  await status().filter({ hasText: /^Connected/ }).waitFor({ timeout: 15_000 });
});

test("with WebSockets blocked, sendMessage goes over the HTTP fallback, once", async () => {
  await status().filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 15_000 });
  const session = await page.locator("main").getAttribute("data-session-id");
  const control = (path) => json(`${server.url}/control/${encodeURIComponent(session)}/${path}`, { method: "POST" });
  await control("refuse?ms=60000");
  await control("drop");
  await status().filter({ hasText: /^Connected \(HTTP\)$/ }).waitFor({ timeout: 10_000 });
  const text = `hello over http ${Date.now()}`;
  await page.getByLabel("Message").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("li.me", { hasText: `${text} (via HTTP)` }).waitFor();
  await page.locator("li.server", { hasText: text }).waitFor({ timeout: 5_000 });
  const log = await json(`${server.url}/control/${encodeURIComponent(session)}/log`);
  const copies = log.frames.filter((frame) => frame.data?.text === text);
  assert.deepEqual(copies.map((frame) => frame.via), ["http"], "POSTed once");
  await control("refuse?ms=0");
});

// React's StrictMode mounts every effect twice in development: run the Vite
// dev server and check the server never accepted more than one socket.
test("under StrictMode (vite dev) the chat opens exactly one socket", async () => {
  const { spawn } = await import("node:child_process");
  const port = await freePort();
  const devServer = await startServer([]);
  const vite = spawn("node_modules/.bin/vite", ["--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
    cwd: new URL("../examples/vite-react-chat/", import.meta.url).pathname,
    env: { ...process.env, RESOCKET_SERVER: devServer.url.replace("http://", "") },
    stdio: "ignore",
  });
  try {
    const devPage = await browser.newPage();
    for (let tries = 0; ; tries++) {
      try {
        await devPage.goto(`http://127.0.0.1:${port}/`);
        break;
      } catch (error) {
        if (tries > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await devPage.getByRole("status").filter({ hasText: /^Connected/ }).waitFor({ timeout: 20_000 });
    await devPage.waitForTimeout(500);
    const health = await json(`${devServer.url}/health`);
    assert.equal(health.websocket.accepted, 1, "StrictMode's rehearsal mount opened no socket");
    assert.equal(health.websocket.connections, 1);
    await devPage.close();
  } finally {
    vite.kill("SIGTERM");
    await devServer.stop();
  }
});
