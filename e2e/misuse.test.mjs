// Misuse of the built package (pkg/), as an application could get it wrong:
// free() twice, calls after free(), free() from inside a listener while the
// transport is busy, an error during construction, a bad option. Runs in
// Node: none of it needs a server or a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { ROOT } from "./support.mjs";

const { initSync, WebSocketTransport } = await import(`${ROOT}pkg/resocket.js`);
initSync({ module: readFileSync(`${ROOT}pkg/resocket_bg.wasm`) });

const FREED = /^resocket: this transport was freed/;
const quiet = () => new WebSocketTransport({ url: "ws://127.0.0.1:9/ws", autoConnect: false });

test("free() is idempotent, and so is Symbol.dispose", () => {
  const transport = quiet();
  transport.free();
  transport.free();
  transport[Symbol.dispose]?.();
});

test("every method and getter after free() throws an Error that says so", () => {
  const transport = quiet();
  const getSnapshot = transport.getSnapshot;
  transport.free();
  const uses = [
    () => transport.connect(),
    () => transport.reconnect(),
    () => transport.disconnect(),
    () => transport.send("message", {}),
    () => transport.sendRaw("x"),
    () => transport.on("state", () => {}),
    () => transport.onMessage("message", () => {}),
    () => transport.queued(),
    () => transport.clearQueue(),
    () => transport.state,
    () => transport.latencyMs,
    () => transport.queueLength,
    () => transport.sessionId,
    () => transport.subscribe,
    () => transport.snapshot(),
  ];
  for (const use of uses) {
    assert.throws(use, (error) => error instanceof Error && FREED.test(error.message), String(use));
  }
  // A standalone getSnapshot taken before keeps answering with the last snapshot.
  assert.equal(getSnapshot().state, "disconnected");
});

test("free() from inside a listener, while send() runs, works", () => {
  const transport = quiet();
  let freedInside = false;
  transport.on("queue", () => {
    transport.free();
    freedInside = true;
  });
  assert.equal(transport.send("message", { n: 1 }), "queued");
  assert.ok(freedInside);
  assert.throws(() => transport.send("message", { n: 2 }), { message: FREED });
  transport.free();
});

test("free() from inside a state listener during disconnect() works", () => {
  const transport = new WebSocketTransport({ url: "ws://127.0.0.1:9/ws", autoConnect: false, enableWebSocket: true });
  transport.on("queue", () => {});
  transport.connect();
  transport.on("state", (state) => {
    if (state === "disconnected") transport.free();
  });
  transport.disconnect(1000, "bye");
  assert.throws(() => transport.state, { message: FREED });
});

test("an error during construction reaches a listener attached right after it", async () => {
  // Node 20 has no global WebSocket: the constructor of the socket throws.
  const hadWebSocket = "WebSocket" in globalThis;
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = undefined;
  try {
    const transport = new WebSocketTransport({ url: "ws://127.0.0.1:9/ws", maxReconnectAttempts: 0 });
    const errors = [];
    const states = [];
    transport.on("error", (error) => errors.push(error));
    transport.on("state", (state) => states.push(state));
    assert.deepEqual(errors, [], "delivered asynchronously");
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
    assert.match(errors[0].message, /^resocket: could not open a WebSocket: /);
    assert.ok(!/^resocket: resocket:/.test(errors[0].message), "one prefix");
    assert.deepEqual(states.slice(0, 1), ["connecting"]);
    transport.free();
  } finally {
    if (hadWebSocket) globalThis.WebSocket = saved;
    else delete globalThis.WebSocket;
  }
});

test("sendWithAck without at-least-once rejects with one resocket: prefix", async () => {
  const transport = quiet();
  await assert.rejects(transport.sendWithAck("message", {}), (error) => {
    assert.match(error.message, /^resocket: sendWithAck needs the option delivery: "at-least-once"/);
    return true;
  });
  transport.free();
});

test("bad options and arguments are TypeErrors or RangeErrors naming the field", () => {
  assert.throws(() => new WebSocketTransport({ url: "ws://h/", heartbeatInterval: -1 }), {
    name: "RangeError",
    message: /^resocket: heartbeatInterval must be a finite number of milliseconds from 0 to 2147483647, got -1$/,
  });
  assert.throws(() => new WebSocketTransport({ url: "http://h/" }), { name: "RangeError", message: /^resocket: url must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/h\/"$/ });
  const transport = quiet();
  assert.throws(() => transport.on("nope", () => {}), { name: "RangeError", message: /event must be .*"reset"/ });
  assert.throws(() => transport.disconnect(1001), { name: "RangeError", message: /code must be 1000 or from 3000 to 4999/ });
  assert.throws(() => transport.send(1, {}), { name: "TypeError", message: /type must be a string/ });
  transport.free();
});
