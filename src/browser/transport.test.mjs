// Unit tests of transport.js, the JavaScript half, on the real core: the
// release .wasm that `cargo build --release --target wasm32-unknown-unknown
// --lib` writes (the test command builds it first). The browser objects the
// class drives (WebSocket, EventSource, fetch, page events) are stand-ins that
// record what is done to them, so each test can play the browser's part; the
// browser tests (tests/*.rs) and e2e/ run the same class in real browsers.
// Run with `node --test src/browser/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { FakeSocket, sockets } from "./fake-socket.mjs";
import { WebSocketTransport, bindCore, coreBound, coreImports, describe, editDistance } from "./transport.js";

const WASM = new URL("../../target/wasm32-unknown-unknown/release/resocket.wasm", import.meta.url);

globalThis.WebSocket = FakeSocket;

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const last = () => sockets.at(-1);
const base = { url: "ws://h.test/ws", sessionId: "s1", heartbeatInterval: 0 };

test("before init() the constructor says what is missing", () => {
  assert.equal(coreBound(), false);
  assert.throws(() => new WebSocketTransport(base), { message: "resocket: call await init() first" });
  bindCore(/** @type {any} */ (new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM)), coreImports).exports));
  assert.equal(coreBound(), true);
});

test("options: unknown names, wrong types and bad values are errors naming the option and the value", () => {
  assert.throws(() => new WebSocketTransport({ ...base, reconectInterval: 500 }), {
    name: "TypeError",
    message: "resocket: reconectInterval is not an option (did you mean reconnectInterval?), got 500",
  });
  assert.throws(() => new WebSocketTransport({ ...base, shareAcrossTabs: true }), {
    name: "TypeError",
    message: 'resocket: shareAcrossTabs is not an option here: it is an option of resocket/shared (import { WebSocketTransport } from "resocket/shared"), got true',
  });
  assert.throws(() => new WebSocketTransport({ ...base, minUptime: "5" }), {
    name: "TypeError",
    message: 'resocket: minUptime must be a number, got "5"',
  });
  assert.throws(() => new WebSocketTransport({ ...base, reconnectInterval: -5 }), {
    name: "RangeError",
    message: /^resocket: reconnectInterval must be .*, got -5$/,
  });
  assert.throws(() => new WebSocketTransport({ ...base, queueOverflow: "drop-all" }), {
    name: "RangeError",
    message: 'resocket: queueOverflow must be "drop-oldest", "drop-newest" or "error", got "drop-all"',
  });
  assert.throws(() => new WebSocketTransport({ sessionId: "s" }), { name: "TypeError", message: /^resocket: url is required/ });
  assert.throws(() => new WebSocketTransport(null), { name: "TypeError", message: /^resocket: options must be an object/ });
  assert.equal(editDistance("reconectInterval", "reconnectInterval"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("connect, send, receive: one socket at the session's URL, envelopes out, messages in", async () => {
  const t = new WebSocketTransport({ ...base, protocols: "chat" });
  const states = [];
  t.on("state", (state) => states.push(state));
  const socket = last();
  assert.match(socket.url, /^ws:\/\/h\.test\/ws\?session_id=s1/);
  assert.deepEqual(socket.protocols, ["chat"]);
  assert.equal(socket.binaryType, "arraybuffer");
  await tick();
  socket.open();
  assert.deepEqual(states, ["connecting", "connected"]);
  assert.equal(t.state, "connected");

  assert.equal(t.send("chat", { text: "hi" }), "sent");
  const envelope = JSON.parse(socket.sent.at(-1));
  assert.equal(envelope.type, "chat");
  assert.deepEqual(envelope.data, { text: "hi" });
  assert.match(envelope.id, /^[0-9a-z]+-1$/);
  assert.ok(!Number.isNaN(Date.parse(envelope.timestamp)));
  assert.equal(t.sendRaw(new Uint8Array([1, 2])), "sent");
  assert.deepEqual(socket.sent.at(-1), new Uint8Array([1, 2]));

  const messages = [];
  const chats = [];
  t.on("message", (message) => messages.push(message));
  t.onMessage("chat", (message) => chats.push(message));
  socket.receive({ type: "chat", data: "a" });
  socket.receive({ type: "other", data: "b" });
  socket.receive("not json");
  socket.receive({ type: "pong", id: "x" });
  assert.deepEqual(messages, [{ type: "chat", data: "a" }, { type: "other", data: "b" }, "not json"]);
  assert.deepEqual(chats, [{ type: "chat", data: "a" }]);
  assert.equal(t.stats.received, 3);
  t.free();
});

test("numbered frames reach the application in seq order; a jump is told as a gap", async () => {
  const t = new WebSocketTransport(base);
  await tick();
  const socket = last();
  socket.open();
  const seen = [];
  const gaps = [];
  t.on("message", (message) => seen.push(message.type === "gap" ? `gap ${message.data.after}..${message.data.firstAvailable}` : message.seq));
  t.onMessage("gap", (message) => gaps.push(message.data));
  // A server that sends them out of order: held, then delivered in order.
  for (const seq of [1, 5, 3, 4]) socket.receive({ type: "chat", data: null, seq });
  assert.deepEqual(seen, [1]);
  assert.equal(t.snapshot().lastSeq, 1, "resumes after the highest delivered in order");
  socket.receive({ type: "chat", data: null, seq: 2 });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  // Farther ahead than frames are held: the hole is said, then the frame comes.
  socket.receive({ type: "chat", data: null, seq: 5000 });
  socket.receive({ type: "chat", data: null, seq: 7 });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, "gap 5..5000", 5000]);
  assert.deepEqual(gaps, [{ after: 5, firstAvailable: 5000 }]);
  assert.equal(t.stats.received, 6);
  assert.equal(t.snapshot().lastSeq, 5000);
  t.free();
});

test("offline sends are queued in order, shown by queued(), and flushed on open", async () => {
  const t = new WebSocketTransport({ ...base, autoConnect: false });
  assert.equal(t.send("a", 1), "queued");
  assert.equal(t.sendRaw("raw"), "queued");
  assert.equal(t.queueLength, 2);
  const queued = t.queued();
  assert.equal(queued[0].type, "a");
  assert.equal(queued[1], "raw");
  t.connect();
  last().open();
  assert.deepEqual(last().sent.map((frame) => (frame.startsWith("{") ? JSON.parse(frame).type : frame)), ["a", "raw"]);
  assert.equal(t.queueLength, 0);
  assert.deepEqual(t.queued(), []);
  t.free();
});

test("a full queue under drop-oldest reports what it dropped; under error it throws", () => {
  const t = new WebSocketTransport({ ...base, autoConnect: false, messageQueueSize: 1 });
  const changes = [];
  t.on("queue", (change) => changes.push(change));
  t.send("first", 1);
  t.send("second", 2);
  assert.equal(changes.at(-1).length, 1);
  assert.equal(changes.at(-1).dropped[0].type, "first");
  assert.equal(t.queued()[0].type, "second");
  t.free();
  const strict = new WebSocketTransport({ ...base, autoConnect: false, messageQueueSize: 1, queueOverflow: "error" });
  strict.send("first", 1);
  assert.throws(() => strict.send("second", 2), {
    message: 'resocket: the offline queue is full (1 messages) and queueOverflow is "error"',
  });
  strict.free();
});

test("sendWithAck resolves on the server's ack, and free() rejects what is still waiting", async () => {
  const t = new WebSocketTransport({ ...base, delivery: "at-least-once" });
  last().open();
  const acked = t.sendWithAck("chat", "x");
  const id = JSON.parse(last().sent.at(-1)).id;
  const waiting = t.sendWithAck("chat", "y");
  assert.equal(t.queueLength, 2, "held until acknowledged");
  last().receive({ type: "ack", id });
  assert.equal(await acked, id);
  assert.equal(t.queueLength, 1);
  t.free();
  await assert.rejects(waiting, { message: "resocket: the transport was freed before the message was acknowledged" });
  const plain = new WebSocketTransport(base);
  await assert.rejects(plain.sendWithAck("chat", 1), { message: /needs the option delivery: "at-least-once"/ });
  assert.throws(() => plain.sendWithAck(5, 1), { name: "TypeError", message: "resocket: type must be a string, got 5" });
  plain.free();
});

test("a message over maxMessageBytes is dropped at send, counted in UTF-8 bytes; a welcome's limit is adopted", async () => {
  const t = new WebSocketTransport({ ...base, delivery: "at-least-once", maxMessageBytes: 2048 });
  const dropped = [];
  const errors = [];
  t.on("dropped", (event) => dropped.push(event));
  t.on("error", (error) => errors.push(error.message));
  last().open();
  // 700 characters of 3 bytes each: 2,100 bytes and more, though under 2,048 characters.
  const wide = t.sendWithAck("chat", "€".repeat(700));
  assert.equal(last().sent.length, 0, "nothing went out");
  await assert.rejects(wide, { message: /^resocket: the message is 21\d\d bytes, over maxMessageBytes \(2048\)/ });
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0].message.data, "€".repeat(700));
  assert.match(dropped[0].reason, /^the message is 21\d\d bytes/);
  assert.equal(errors.length, 1);
  assert.equal(t.send("chat", "a".repeat(1900)), "sent", "ASCII under the limit goes");
  assert.equal(t.sendRaw(new Uint8Array(2049)), "dropped");
  last().receive({ type: "welcome", data: { epoch: "e1", lastSeq: 0, limits: { maxMessageBytes: 1500 } } });
  assert.equal(t.send("chat", "a".repeat(1900)), "dropped", "the server's lower limit");
  assert.equal(t.queueLength, 1, "only the ASCII one, awaiting its ack");
  t.free();
  assert.throws(() => new WebSocketTransport({ ...base, maxMessageBytes: 100 }), {
    name: "RangeError",
    message: "resocket: maxMessageBytes must be a whole number from 1024 to 4294967295, got 100",
  });
});

test("a welcome's message rate paces the sends: a second's worth at once, the rest in order on the core's timer", async () => {
  const t = new WebSocketTransport({ ...base, messageQueueSize: 100 });
  last().open();
  last().receive({ type: "welcome", data: { epoch: "e1", lastSeq: 0, limits: { messageRate: 50 } } });
  const outcomes = Array.from({ length: 60 }, (_, n) => t.send("chat", n));
  assert.deepEqual(outcomes, [...Array(50).fill("sent"), ...Array(10).fill("queued")]);
  assert.equal(last().sent.length, 50);
  assert.equal(t.queueLength, 10);
  // One every 20 ms from here: waited for, not timed.
  for (let waited = 0; last().sent.length < 60 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(
    last().sent.map((frame) => JSON.parse(frame).data),
    [...Array(60).keys()],
    "all of them, in order",
  );
  assert.equal(t.queueLength, 0);
  t.free();
});

test("an application's own welcome envelope (no epoch) keeps its seq: numbered and resumed like any other", () => {
  const t = new WebSocketTransport(base);
  const got = [];
  t.on("message", (message) => got.push(message));
  last().open();
  last().receive({ type: "chat", seq: 1, data: "a" });
  last().receive({ type: "welcome", seq: 2, data: { text: "hi" } });
  last().receive({ type: "chat", seq: 3, data: "b" });
  assert.deepEqual(
    got.map((message) => message.seq),
    [1, 2, 3],
    "delivered at once, not held behind a hole",
  );
  assert.equal(t.snapshot().lastSeq, 3);
  t.free();
});

test("bad arguments are errors that name them", () => {
  const t = new WebSocketTransport(base);
  assert.throws(() => t.send("chat", () => 1), { name: "TypeError", message: "resocket: data must be serialisable as JSON, got a function" });
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => t.send("chat", cyclic), { name: "TypeError", message: /^resocket: data must be serialisable as JSON, got TypeError/ });
  assert.throws(() => t.sendRaw(5), { name: "TypeError", message: "resocket: data must be a string, an ArrayBuffer or a typed array, got 5" });
  assert.throws(() => t.on("nope", () => {}), { name: "RangeError", message: /^resocket: event must be "state", .* or "dropped", got "nope"$/ });
  assert.throws(() => t.on("state", 1), { name: "TypeError", message: "resocket: handler must be a function, got 1" });
  assert.throws(() => t.disconnect(1001), { name: "RangeError", message: "resocket: code must be 1000 or from 3000 to 4999, got 1001" });
  assert.throws(() => t.disconnect(1000, 7), { name: "TypeError", message: "resocket: reason must be a string, got 7" });
  assert.throws(() => t.disconnect(1000, "x".repeat(124)), { name: "RangeError", message: /^resocket: reason/ });
  t.free();
});

test("disconnect closes with the code and reason and stays down", () => {
  const t = new WebSocketTransport(base);
  const socket = last();
  socket.open();
  t.disconnect(4000, "bye");
  assert.deepEqual(socket.closedWith, [4000, "bye"]);
  assert.equal(t.state, "disconnected");
  assert.equal(t.snapshot().disconnectReason, "client");
  t.free();
});

test("a close asks shouldReconnect with its details; its no is final", async () => {
  const asked = [];
  const t = new WebSocketTransport({ ...base, shouldReconnect: (close) => (asked.push(close), false) });
  last().open();
  last().drop(4001, "go away", true);
  assert.deepEqual(asked, [{ code: 4001, reason: "go away", wasClean: true }]);
  assert.equal(t.state, "disconnected");
  assert.equal(t.snapshot().disconnectReason, "terminal-close");
  t.free();
});

test("after a drop the timer brings the next attempt, with its reconnecting event", async () => {
  const t = new WebSocketTransport({ ...base, reconnectInterval: 5, reconnectJitter: 0 });
  last().open();
  const first = last();
  const waits = [];
  t.on("reconnecting", (wait) => waits.push(wait));
  first.drop();
  assert.equal(t.state, "reconnecting");
  assert.deepEqual(waits, [{ attempt: 1, delayMs: 5 }]);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.notEqual(last(), first, "a new socket after the backoff");
  last().open();
  assert.equal(t.state, "connected");
  t.free();
});

test("a WebSocket constructor that throws is an error event and a failed attempt, with no socket left behind", async () => {
  const t = new WebSocketTransport({ ...base, autoConnect: false, reconnectInterval: 5, reconnectJitter: 0 });
  const errors = [];
  t.on("error", (error) => errors.push(error.message));
  t.connect();
  last().open();
  const before = sockets.length;
  FakeSocket.refuseNext = new Error("SecurityError: the port is blocked");
  t.reconnect();
  assert.equal(sockets.length, before, "no socket was made");
  assert.match(errors.at(-1), /could not open a WebSocket: .*the port is blocked/);
  assert.equal(t.state, "reconnecting");
  // Nothing is sent on the socket that was closed before.
  assert.equal(t.send("queued", 1), "queued");
  await new Promise((resolve) => setTimeout(resolve, 30));
  last().open();
  assert.equal(t.state, "connected");
  assert.equal(JSON.parse(last().sent.at(-1)).type, "queued");
  t.free();
});

test("events of the constructor reach listeners attached right after it", async () => {
  const t = new WebSocketTransport(base);
  const states = [];
  t.on("state", (state) => states.push(state));
  assert.deepEqual(states, []);
  await tick();
  assert.deepEqual(states, ["connecting"]);
  t.free();
});

test("a listener that throws is reported and does not stop the others", () => {
  const t = new WebSocketTransport({ ...base, autoConnect: false });
  const heard = [];
  const errors = [];
  const original = console.error;
  console.error = (...args) => errors.push(args);
  try {
    t.on("state", () => {
      throw new Error("boom");
    });
    t.on("state", (state) => heard.push(state));
    t.connect();
  } finally {
    console.error = original;
  }
  assert.deepEqual(heard, ["connecting"]);
  assert.equal(errors[0][0], "resocket: an event listener threw");
  t.free();
});

test("the snapshot is frozen and keeps its identity until something changes", () => {
  const t = new WebSocketTransport({ ...base, autoConnect: false });
  const get = t.getSnapshot;
  const first = get();
  assert.equal(get(), first);
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.stats) && Object.isFrozen(first.latency));
  assert.deepEqual(
    { ...first, latency: { ...first.latency }, stats: { ...first.stats } },
    {
      state: "disconnected",
      mode: "websocket",
      attempt: 0,
      nextRetryInMs: null,
      latencyMs: null,
      latency: { last: null, avg: null, min: null, max: null, jitter: null, samples: 0 },
      queued: 0,
      sessionId: "s1",
      disconnectReason: null,
      lastClose: null,
      lastSeq: null,
      stats: { sent: 0, received: 0, reconnects: 0, dropped: 0, errors: 0, resets: 0 },
    },
  );
  let changes = 0;
  t.subscribe(() => changes++);
  t.send("a", 1);
  assert.equal(changes, 1);
  assert.notEqual(get(), first);
  assert.equal(get().queued, 1);
  t.free();
});

test("a steady-state message notifies no snapshot subscriber; stats reads the counters now", () => {
  const t = new WebSocketTransport(base);
  last().open();
  let changes = 0;
  t.subscribe(() => changes++);
  const before = t.getSnapshot();
  for (let n = 0; n < 200; n++) {
    t.send("echo", n);
    last().receive({ type: "echo", data: n });
  }
  assert.equal(changes, 0, "400 notifications before: two a message");
  assert.equal(t.getSnapshot(), before, "the same snapshot object");
  assert.deepEqual({ ...t.stats }, { sent: 200, received: 200, reconnects: 0, dropped: 0, errors: 0, resets: 0 });
  last().drop(1006);
  assert.equal(changes, 1);
  assert.equal(t.getSnapshot().stats.sent, 200, "a change carries the counters as they are");
  t.free();
});

test("listeners that call back in: events in the core's order, the last state event is the state", async () => {
  const t = new WebSocketTransport({ ...base, reconnectInterval: 5, reconnectJitter: 0 });
  last().open();
  const states = [];
  t.on("state", (state) => states.push(state));
  t.on("close", () => t.reconnect());
  last().drop(1006);
  assert.deepEqual(states, ["reconnecting", "connecting"], "was connecting, reconnecting, connected");
  assert.equal(states.at(-1), t.state);
  const sockets_ = sockets.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(sockets.length, sockets_, "the stale retry timer was cleared: no second socket");
  last().open();
  assert.deepEqual(states.slice(2), ["connected"]);
  t.free();
});

test("a disconnect() inside shouldReconnect keeps the server's close code", () => {
  const closes = [];
  /** @type {WebSocketTransport} */
  let t;
  t = new WebSocketTransport({
    ...base,
    shouldReconnect: (close) => {
      t.disconnect();
      return close.code !== 4401;
    },
  });
  t.on("close", (close) => closes.push(close.code));
  last().open();
  last().drop(4401, "token expired", true);
  assert.deepEqual(closes, [4401]);
  assert.deepEqual(t.snapshot().lastClose, { code: 4401, reason: "token expired" });
  assert.equal(t.state, "disconnected");
  // A bad code is still thrown at its caller, from inside a listener too.
  t.connect();
  last().open();
  let thrown = null;
  t.on("close", () => {
    try {
      t.disconnect(1001);
    } catch (error) {
      thrown = error;
    }
  });
  last().drop(1006);
  assert.equal(thrown?.name, "RangeError");
  t.free();
});

test("reconnect() in a loop opens one socket", () => {
  const t = new WebSocketTransport(base);
  last().open();
  const before = sockets.length;
  for (let n = 0; n < 300; n++) t.reconnect();
  assert.equal(sockets.length, before + 1);
  t.free();
});

test("a sendWithAck kept through disconnect() resolves after connect(); clearQueue() rejects it", async () => {
  const t = new WebSocketTransport({ ...base, delivery: "at-least-once" });
  last().open();
  const kept = t.sendWithAck("chat", "x");
  let settled = false;
  kept.then(() => (settled = true), () => (settled = true));
  t.disconnect();
  await tick();
  assert.equal(settled, false, "not rejected: it is still queued");
  assert.equal(t.queueLength, 1);
  t.connect();
  last().open();
  const id = JSON.parse(last().sent.at(-1)).id;
  last().receive({ type: "ack", id });
  assert.equal(await kept, id);
  t.disconnect();
  const removed = t.sendWithAck("chat", "y");
  t.clearQueue();
  await assert.rejects(removed, { message: /clearQueue\(\)/ });
  t.free();
});

test("data whose toJSON frees the transport: send and sendWithAck throw that it was freed", () => {
  for (const method of ["send", "sendWithAck"]) {
    const t = new WebSocketTransport(base);
    last().open();
    assert.throws(() => t[method]("chat", { toJSON: () => (t.free(), "x") }), { message: /this transport was freed/ }, method);
  }
});

test("free() closes everything, is idempotent and safe in a listener; other members throw after it", () => {
  const t = new WebSocketTransport(base);
  const socket = last();
  socket.open();
  const get = t.getSnapshot;
  t.on("message", () => t.free());
  socket.receive({ type: "chat" });
  assert.deepEqual(socket.closedWith, [1000, "transport freed"]);
  t.free();
  assert.equal(get().state, "connected", "the last snapshot stays");
  const freed = { message: "resocket: this transport was freed (free() or [Symbol.dispose]()); create a new one" };
  assert.throws(() => t.send("a", 1), freed);
  assert.throws(() => t.state, freed);
  assert.throws(() => t.getSnapshot, freed);
  assert.throws(() => t.connect(), freed);
});

test("the URL function is asked per attempt; its failure is an error event and a failed attempt", async () => {
  let calls = 0;
  const t = new WebSocketTransport({ ...base, url: async () => (calls++ ? "ws://h.test/b" : Promise.reject(new Error("no token"))), reconnectInterval: 5, reconnectJitter: 0 });
  const errors = [];
  t.on("error", (error) => errors.push(error.message));
  await tick();
  await tick();
  assert.match(errors[0], /^resocket: could not get a URL: Error: no token/);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.match(last().url, /^ws:\/\/h\.test\/b\?/);
  t.free();
});

test("the HTTP fallback POSTs envelopes to a real server and reads its replies", async () => {
  const bodies = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      bodies.push(JSON.parse(body));
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(JSON.parse(body).map((envelope) => ({ type: "ack", id: envelope.id }))));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const t = new WebSocketTransport({
    sessionId: "s2",
    enableWebSocket: false,
    httpFallbackUrl: `http://127.0.0.1:${server.address().port}/messages`,
    delivery: "at-least-once",
  });
  assert.equal(t.snapshot().mode, "http");
  const id = await t.sendWithAck("chat", "over http");
  assert.equal(bodies.length, 1);
  assert.equal(bodies[0][0].id, id);
  assert.equal(t.queueLength, 0);
  t.free();
  server.close();
});

test("describe prints values as JavaScript would, strings quoted", () => {
  assert.equal(describe("a"), '"a"');
  assert.equal(describe(5), "5");
  assert.equal(describe(() => 1), "a function");
  assert.equal(describe(Object.create(null)), "[object Object]");
});
