// Gateway mode with a backend that is not Rust: resocket-server asks an
// 80-line Python backend (standard library only, e2e/gateway/backend.py) who
// may connect, forwards each client envelope to it, and takes its publishes.
// The built package in Chromium: a chat message goes browser → gateway →
// Python → reply → browser, acknowledged; a publish from Python reaches the
// session it names and no other; a room publish reaches the sessions that
// joined. (That a resend is not handed to the application twice is the
// library's test, server/tests/library.rs.)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { freePort, json, launchChromium, ROOT, startListening, startServer } from "./support.mjs";

const SECRET = randomBytes(24).toString("hex");
let gateway;
let backend;
let browser;
let page;

before(async () => {
  process.env.RESOCKET_GATEWAY_SECRET = SECRET;
  const gatewayPort = await freePort();
  const python = spawn("python3", ["--version"]);
  await new Promise((resolve, reject) => python.on("exit", (code) => (code === 0 ? resolve() : reject(new Error("python3 is missing")))));
  backend = await startListening("python3", [`${ROOT}e2e/gateway/backend.py`, `http://127.0.0.1:${gatewayPort}`]);
  gateway = await startServer([
    "--port",
    String(gatewayPort),
    "--static-dir",
    "/pkg=pkg",
    "--webhook",
    `${backend.url}/resocket`,
    "--auth-webhook",
    `${backend.url}/auth`,
  ]);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${gateway.url}/health`);
  await page.evaluate(async (base) => {
    const { default: init, WebSocketTransport } = await import(`${base}/pkg/resocket.js`);
    await init();
    globalThis.open = (sessionId, token) => {
      const transport = new WebSocketTransport({
        url: `${base.replace("http", "ws")}/ws?token=${token}`,
        sessionId,
        delivery: "at-least-once",
      });
      const inbox = [];
      const closes = [];
      transport.on("message", (frame) => inbox.push(frame));
      transport.on("close", (close) => closes.push(close.code));
      return { transport, inbox, closes };
    };
    globalThis.waitFor = (predicate) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          if (predicate()) return resolve(true);
          if (Date.now() - started > 10_000) return reject(new Error("timed out"));
          setTimeout(poll, 20);
        };
        poll();
      });
  }, gateway.url);
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await backend?.stop();
  delete process.env.RESOCKET_GATEWAY_SECRET;
});

test("browser → gateway → Python → reply → browser; publishes reach the named session only", async () => {
  const replies = await page.evaluate(async () => {
    globalThis.ann = open("gw-ann", "pass-ann");
    globalThis.bob = open("gw-bob", "pass-bob");
    await waitFor(() => ann.transport.state === "connected" && bob.transport.state === "connected");
    const id = await ann.transport.sendWithAck("chat", { text: "hello" });
    await waitFor(() => ann.inbox.some((frame) => frame.type === "chat-reply"));
    return { id, inbox: ann.inbox };
  });
  const reply = replies.inbox.find((frame) => frame.type === "chat-reply");
  assert.deepEqual(reply.data, { text: "HELLO", by: "python" });
  assert.equal(reply.replyTo, replies.id, "the reply names the message");
  assert.equal(typeof reply.seq, "number", "numbered in the session's stream");

  const seen = await json(`${backend.url}/seen`);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    [seen[0].sessionId, seen[0].user, seen[0].channel, seen[0].message.data],
    ["gw-ann", "ann", "websocket", { text: "hello" }],
  );

  // Python publishes to ann, then to bob: when bob has his, ann's went to ann only.
  await json(`${backend.url}/publish`, { method: "POST", body: JSON.stringify({ session: "gw-ann", text: "for ann" }) });
  await json(`${backend.url}/publish`, { method: "POST", body: JSON.stringify({ session: "gw-bob", text: "for bob" }) });
  const notices = await page.evaluate(async () => {
    await waitFor(() => bob.inbox.some((f) => f.type === "notice") && ann.inbox.some((f) => f.type === "notice"));
    const texts = (inbox) => inbox.filter((f) => f.type === "notice").map((f) => f.data.text);
    return { ann: texts(ann.inbox), bob: texts(bob.inbox) };
  });
  assert.deepEqual(notices, { ann: ["for ann"], bob: ["for bob"] });

  // Ann joined "lobby" through the webhook's answer; bob did not.
  const room = await json(`${backend.url}/publish`, { method: "POST", body: JSON.stringify({ room: "lobby", text: "lobby news" }) });
  assert.equal(room.sessions, 1);
  const lobby = await page.evaluate(async () => {
    await waitFor(() => ann.inbox.some((f) => f.data?.text === "lobby news"));
    bob.transport.send("ping-me-not", null); // no reply, but proves bob's channel still works
    const result = bob.inbox.map((f) => f.data?.text);
    ann.transport.free();
    bob.transport.free();
    return result;
  });
  assert.deepEqual(lobby, ["for bob"], "bob is not in the lobby");
});

test("the backend's auth decides who connects: a bad token is refused for good (4401), another user's session too (4403)", async () => {
  const refused = await page.evaluate(async () => {
    const intruder = open("gw-intruder", "wrong");
    const thief = open("gw-ann", "pass-mallory");
    await waitFor(() => intruder.transport.state === "disconnected" && thief.transport.state === "disconnected");
    const result = { intruder: intruder.closes, thief: thief.closes };
    intruder.transport.free();
    thief.transport.free();
    return result;
  });
  assert.deepEqual(refused, { intruder: [4401], thief: [4403] }, "terminal: no retry storm");
  const seen = await json(`${backend.url}/seen`);
  assert.ok(!seen.some((event) => event.sessionId === "gw-intruder"), "nothing of theirs reached the backend");
});

test("the publish API needs the secret", async () => {
  const response = await fetch(`${gateway.url}/api/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer wrong" },
    body: JSON.stringify({ session: "gw-ann", message: { type: "notice" } }),
  });
  assert.equal(response.status, 401);
});
