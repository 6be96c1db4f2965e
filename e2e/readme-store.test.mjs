// The README's zustand chat store ("A zustand chat store"), extracted from
// README.md as it is, bundled with esbuild and run in headless Chromium
// against a real server: it connects, sends with acknowledgement, receives
// the echo, survives StrictMode's initialize/disconnect/initialize with one
// socket, and disconnectWebSocket frees the transport.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readmeSnippets } from "../scripts/readme-snippets.mjs";
import { ROOT, json, launchChromium, startServer } from "./support.mjs";

let dir;
let site;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "resocket-readme-store-"));
  const store = readmeSnippets(join(ROOT, "README.md")).find((snippet) => snippet.name === "chatStore.ts");
  assert.ok(store, "README.md has the chatStore.ts block");
  writeFileSync(join(dir, "chatStore.ts"), store.code);
  writeFileSync(join(dir, "main.ts"), 'import { useChatStore } from "./chatStore";\n(window as any).chat = useChatStore;\n');
  writeFileSync(join(dir, "index.html"), '<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>');
  execFileSync(
    join(ROOT, "node_modules/.bin/esbuild"),
    [join(dir, "main.ts"), "--bundle", "--format=esm", "--log-level=warning", `--alias:resocket=${join(ROOT, "pkg")}`, `--outfile=${join(dir, "main.js")}`],
    // zustand from the dev tools' node_modules: the bundle is built outside the repository.
    { cwd: ROOT, env: { ...process.env, NODE_PATH: join(ROOT, "node_modules") } },
  );
  copyFileSync(join(ROOT, "pkg/resocket_bg.wasm"), join(dir, "resocket_bg.wasm"));
  site = await startServer(["--static-dir", dir]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function openStore() {
  const server = await startServer([]);
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${site.url}/index.html`);
  await page.waitForFunction(() => window.chat !== undefined);
  return { server, page, pageErrors, wsUrl: `${server.url.replace(/^http/, "ws")}/ws` };
}

const state = (page, field) => page.evaluate((field) => window.chat.getState()[field], field);

test("the README's store connects, sends with an ack, receives the echo, and frees on disconnect", { timeout: 60_000 }, async () => {
  const { server, page, pageErrors, wsUrl } = await openStore();
  try {
    await page.evaluate((url) => window.chat.getState().initializeWebSocket(url), wsUrl);
    await page.waitForFunction(() => window.chat.getState().connectionStatus === "connected");
    await page.waitForFunction(() => typeof window.chat.getState().latency === "number");
    assert.equal(await state(page, "useWebSocket"), true);
    await page.evaluate(() => window.chat.getState().sendMessage("hello from the README"));
    await page.waitForFunction(() =>
      window.chat.getState().messages.some((m) => m.from === "me" && m.delivery === "acknowledged"),
    );
    await page.waitForFunction(() =>
      window.chat.getState().messages.some((m) => m.from === "server" && m.text === "hello from the README"),
    );
    const log = await json(
      `${server.url}/control/${encodeURIComponent(await page.evaluate(() => window.chat.getState().transport.sessionId))}/log`,
    );
    assert.equal(log.frames.filter((frame) => frame.data?.text === "hello from the README").length, 1);

    const transportState = await page.evaluate(() => {
      const { transport } = window.chat.getState();
      window.chat.getState().disconnectWebSocket();
      try {
        return transport.state;
      } catch (error) {
        return error.message;
      }
    });
    assert.match(transportState, /freed/, "disconnectWebSocket frees the transport");
    assert.equal(await state(page, "transport"), null);
    assert.equal(await state(page, "connectionStatus"), "disconnected");
    for (;;) {
      if ((await json(`${server.url}/health`)).websocket.connections === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(pageErrors, []);
  } finally {
    await page.close();
    await server.stop();
  }
});

test("initialize, disconnect, initialize (StrictMode's double effect) opens one socket", { timeout: 60_000 }, async () => {
  const { server, page, pageErrors, wsUrl } = await openStore();
  try {
    await page.evaluate((url) => {
      const chat = window.chat.getState();
      void chat.initializeWebSocket(url);
      chat.disconnectWebSocket();
      return chat.initializeWebSocket(url);
    }, wsUrl);
    await page.waitForFunction(() => window.chat.getState().connectionStatus === "connected");
    await page.evaluate(() => window.chat.getState().sendMessage("after the rehearsal"));
    await page.waitForFunction(() => window.chat.getState().messages.some((m) => m.text === "after the rehearsal" && m.from === "server"));
    const health = await json(`${server.url}/health`);
    assert.equal(health.websocket.accepted, 1);
    assert.equal(health.websocket.connections, 1);
    assert.deepEqual(pageErrors, []);
  } finally {
    await page.close();
    await server.stop();
  }
});
