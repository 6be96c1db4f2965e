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
import { freePort, json, launchChromium, startListening, startNodeServer, startServer, ROOT } from "./support.mjs";

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
 * Opens a transport in `page` to the proxy at `base` (the package loaded
 * from `modules`), sends 10 messages with acks at once, without waiting for
 * the transport to connect, and waits for their echoes; resolves to what
 * it saw. `seen` and `waitFor` stay in the page for the test's next steps.
 */
function exchange(page, { base, modules = base, session, httpOnly = false }) {
  return page.evaluate(
    async ({ base, modules, session, httpOnly }) => {
      const { default: init, WebSocketTransport } = await import(`${modules}/pkg/resocket.js`);
      await init();
      const seen = { replies: [], pushes: [], errors: [], modes: [] };
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
      transport.on("mode", (mode) => seen.modes.push(mode));
      Object.assign(globalThis, { transport, seen });
      globalThis.waitFor = (predicate, what) =>
        new Promise((resolve, reject) => {
          const started = Date.now();
          const poll = () => {
            if (predicate()) return resolve(true);
            if (Date.now() - started > 15_000) return reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(seen)}`));
            setTimeout(poll, 10);
          };
          poll();
        });
      const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => transport.sendWithAck("message", { n })));
      await waitFor(() => seen.replies.length >= 10, "10 echoes");
      await waitFor(() => transport.state === "connected", "connected");
      return { ids, replies: seen.replies, mode: transport.getSnapshot().mode };
    },
    { base, modules, session, httpOnly },
  );
}

/** Frees the page's transport, closes the page, then stops each of `running` (proxies, servers). */
async function tearDown(page, ...running) {
  await page.evaluate(() => globalThis.transport?.free()).catch(() => {});
  await page.close();
  for (const each of running) await each.stop();
}

/** Makes `push(n)` push n through `server`, then waits in `page` for pushes 1…n to have arrived. */
async function pushOneByOne(page, push) {
  // Each push must arrive before the next is sent: a buffering proxy
  // holds them all (nginx delivered 0 of 5 before the fix).
  for (let n = 1; n <= 5; n++) {
    await push(n);
    await page.evaluate((n) => waitFor(() => seen.pushes.length === n, `push ${n}`), n);
  }
  assert.deepEqual(await page.evaluate(() => seen.pushes), [1, 2, 3, 4, 5]);
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
        const { ids, replies, mode } = await exchange(page, { base: proxy.url, session, httpOnly });
        assert.equal(mode, httpOnly ? "http" : EXPECTED_MODE[name], "the channel the proxy passes");
        assert.equal(new Set(ids).size, 10);
        assert.deepEqual(replies, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "each echoed once, in order");
        const log = await json(`${server.url}/control/${session}/log`);
        assert.deepEqual(
          log.frames.filter((frame) => frame.type === "message").map((frame) => frame.id),
          ids,
          "the server handled each message once",
        );
        await pushOneByOne(page, (n) => json(`${server.url}/control/${session}/push?count=1&first=${n}`, { method: "POST" }));
      } catch (error) {
        error.message += `\n${name} said: ${proxy.output()}`;
        throw error;
      } finally {
        await tearDown(page, proxy, server);
      }
    });
  }
}

// A server that does not ask proxies not to buffer (examples/node-server,
// written from PROTOCOL.md: no X-Accel-Buffering), behind nginx's plain
// proxy_pass: nginx holds its event stream back, so the client gives the
// stream up after its bound and long-polls (PROTOCOL.md §6.2). Messages go
// up meanwhile (the upstream never waits for the downstream), and pushes
// come down, each before the next is made.
test("behind nginx, a server whose event stream nginx holds back is long-polled: messages and pushes get through", { timeout: 60_000 }, async () => {
  const statics = await startServer(["--static-dir", "/pkg=pkg"]);
  const server = await startNodeServer();
  const proxy = await startProxy("nginx (plain proxy_pass)", new URL(server.url).host);
  const page = await browser.newPage();
  const session = `poll-${Date.now()}`;
  try {
    await page.goto(`${statics.url}/health`);
    const { replies } = await exchange(page, { base: proxy.url, modules: statics.url, session });
    await page.evaluate(() => waitFor(() => seen.errors.some((error) => error.includes("long-polling it")), "the switch to polling"));
    const modes = await page.evaluate(() => seen.modes);
    assert.deepEqual(modes, ["http"]);
    assert.deepEqual(replies, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await pushOneByOne(page, async (n) => {
      const pushed = await fetch(`${server.url}/push?session_id=${session}&n=${n}`, { method: "POST" });
      assert.equal(pushed.status, 204);
    });
    assert.equal(await page.evaluate(() => transport.state), "connected");
  } catch (error) {
    error.message += `\nnginx said: ${proxy.output()}`;
    throw error;
  } finally {
    await tearDown(page, proxy, server, statics);
  }
});
