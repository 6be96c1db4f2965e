// examples/nextjs-chat, built with Next's default bundler (Turbopack) and with
// webpack, each run with `next start`: the server-rendered HTML comes out
// without error, hydration connects, messages echo, and one socket is opened.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { freePort, json, launchChromium, screenshot, startServer } from "./support.mjs";

const EXAMPLE = new URL("../examples/nextjs-chat/", import.meta.url).pathname;

for (const [bundler, distDir] of [
  ["turbopack", ".next"],
  ["webpack", ".next-webpack"],
]) {
  describe(`Next.js App Router (${bundler})`, () => {
    let socketServer;
    let next;
    let nextErrors = "";
    let url;
    let browser;

    before(async () => {
      socketServer = await startServer([]);
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      next = spawn("node_modules/.bin/next", ["start", "-p", String(port), "-H", "127.0.0.1"], {
        cwd: EXAMPLE,
        env: {
          ...process.env,
          NEXT_DIST_DIR: distDir,
          NEXT_TELEMETRY_DISABLED: "1",
          RESOCKET_URL: `${socketServer.url.replace("http", "ws")}/ws`,
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      next.stderr.on("data", (chunk) => (nextErrors += chunk));
      for (let tries = 0; ; tries++) {
        try {
          await fetch(url);
          break;
        } catch (error) {
          if (tries > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      next?.kill("SIGTERM");
      await socketServer?.stop();
    });

    test("server rendering produces the chat without touching browser APIs", async () => {
      const response = await fetch(url);
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.match(html, /role="status"/);
      assert.match(html, /Connecting…/, "the server renders the initial state");
      assert.equal(nextErrors, "", "next start wrote no error while rendering");
      const health = await json(`${socketServer.url}/health`);
      assert.equal(health.websocket.accepted, 0, "rendering on the server opened no socket");
    });

    test("the page hydrates, connects once and echoes", async () => {
      const page = await browser.newPage();
      const pageErrors = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(url);
      const status = page.getByRole("status");
      await status.filter({ hasText: /^Connected \(\d+ms\)$/ }).waitFor({ timeout: 20_000 });
      const text = `hello from next (${bundler}) ${Date.now()}`;
      await page.getByLabel("Message").fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator("li.server", { hasText: text }).waitFor({ timeout: 5_000 });
      const health = await json(`${socketServer.url}/health`);
      assert.equal(health.websocket.accepted, 1, "one socket, never a duplicate");
      assert.deepEqual(pageErrors, []);
      const bytes = await screenshot(page, `nextjs-chat-${bundler}`);
      assert.ok(bytes > 5_000);
      await page.close();
    });
  });
}
