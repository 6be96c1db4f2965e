// The built package in Chromium behind Debian's reverse proxies, each at its
// defaults (e2e/proxies.mjs): nginx with a plain proxy_pass (no WebSocket
// upgrades pass) and with its documented WebSocket lines, HAProxy, Caddy,
// and Apache's mod_proxy_http (no upgrades either). The page is served
// through the proxy, as a deployed app is, and the server allows exactly
// the proxy's origin (`--allow-origin`, as the README's "Behind a reverse
// proxy" says).
//
// Through each, on whichever channel passes and then on the HTTP fallback
// alone: 10 at-least-once messages each acknowledged and echoed once, and 5
// server pushes, each delivered before the next is sent (a proxy that
// buffers the event stream delivers none: nginx did, before the server
// sent `X-Accel-Buffering: no`). Outcomes are counted, never timed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { PROXIES, startProxy } from "./proxies.mjs";
import { freePort, json, launchChromium, startListening, ROOT } from "./support.mjs";

// The channel each proxy passes at its defaults.
const EXPECTED_MODE = {
  "nginx (plain proxy_pass)": "http",
  "nginx (WebSocket-aware)": "websocket",
  haproxy: "websocket",
  caddy: "websocket",
  "apache (mod_proxy_http)": "http",
};

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** The server behind `proxyPort`, allowing only the proxy's origin. */
function startUpstream(proxyPort) {
  return startListening(`${ROOT}target/debug/resocket-server`, [
    "--port",
    "0",
    "--enable-control",
    "--static-dir",
    "/pkg=pkg",
    "--allow-origin",
    `http://127.0.0.1:${proxyPort}`,
  ]);
}

/**
 * Opens a transport in `page` to the proxy at `base`, sends 10 messages with
 * acks and waits for their echoes; resolves to what it saw.
 */
function exchange(page, base, session, httpOnly) {
  return page.evaluate(
    async ({ base, session, httpOnly }) => {
      const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
      await init();
      const seen = { replies: [], pushes: [], errors: [] };
      const transport = new WebSocketTransport({
        url: `${base.replace("http", "ws")}/ws`,
        sessionId: session,
        delivery: "at-least-once",
        httpFallbackUrl: `${base}/messages`,
        httpEventsUrl: `${base}/events`,
        fallbackAfterAttempts: 2,
        reconnectInterval: 50,
        reconnectJitter: 0,
        enableWebSocket: !httpOnly,
      });
      transport.on("message", (message) => (message.type === "push" ? seen.pushes : seen.replies).push(message.data.n));
      transport.on("error", (error) => seen.errors.push(error.message));
      Object.assign(globalThis, { transport, seen });
      globalThis.waitFor = (predicate, what) =>
        new Promise((resolve, reject) => {
          const started = Date.now();
          const poll = () => {
            if (predicate()) return resolve(true);
            if (Date.now() - started > 10_000) return reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(seen)}`));
            setTimeout(poll, 10);
          };
          poll();
        });
      await waitFor(() => transport.state === "connected", "connected");
      const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => transport.sendWithAck("message", { n })));
      await waitFor(() => seen.replies.length >= 10, "10 echoes");
      return { ids, replies: seen.replies, mode: transport.getSnapshot().mode };
    },
    { base, session, httpOnly },
  );
}

for (const name of Object.keys(PROXIES)) {
  for (const httpOnly of [false, true]) {
    const channel = httpOnly ? "the HTTP fallback alone" : "the channel it passes";
    test(`behind ${name} at its defaults, ${channel}: messages acknowledged and echoed once, pushes delivered`, { timeout: 60_000 }, async () => {
      const proxyPort = await freePort();
      const server = await startUpstream(proxyPort);
      const proxy = await startProxy(name, new URL(server.url).host, proxyPort);
      const page = await browser.newPage();
      const session = `proxy-${proxyPort}-${httpOnly ? "http" : "auto"}`;
      try {
        await page.goto(`${proxy.url}/health`);
        const { ids, replies, mode } = await exchange(page, proxy.url, session, httpOnly);
        assert.equal(mode, httpOnly ? "http" : EXPECTED_MODE[name], "the channel the proxy passes");
        assert.equal(new Set(ids).size, 10);
        assert.deepEqual(replies, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "each echoed once, in order");
        const log = await json(`${server.url}/control/${session}/log`);
        assert.deepEqual(
          log.frames.filter((frame) => frame.type === "message").map((frame) => frame.id),
          ids,
          "the server handled each message once",
        );
        // Each push must arrive before the next is sent: a buffering proxy
        // holds them all (nginx delivered 0 of 5 before the fix).
        for (let n = 1; n <= 5; n++) {
          await json(`${server.url}/control/${session}/push?count=1&first=${n}`, { method: "POST" });
          await page.evaluate((n) => waitFor(() => seen.pushes.length === n, `push ${n}`), n);
        }
        const pushes = await page.evaluate(() => seen.pushes);
        assert.deepEqual(pushes, [1, 2, 3, 4, 5]);
      } catch (error) {
        error.message += `\n${name} said: ${proxy.output()}`;
        throw error;
      } finally {
        await page.evaluate(() => globalThis.transport?.free()).catch(() => {});
        await page.close();
        await proxy.stop();
        await server.stop();
      }
    });
  }
}
