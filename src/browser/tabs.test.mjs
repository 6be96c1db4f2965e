// Unit tests of tabs.js (`shareAcrossTabs`, the shared build) on the real
// core built with `shared-tabs` (the test command builds it first, as
// scripts/build-pkg does). Several "tabs" live in this one process: each
// transport has its own BroadcastChannel, and Node delivers between them as a
// browser delivers between tabs. Node has no Web Locks, so the tabs elect by
// lease (core::tabs::Lease; its schedule is proven on the simulated clock in
// src/core/tests/tabs.rs); the sockets are FakeSocket, played by the test.
// e2e/tabs.test.mjs runs the built bundle in real browsers with both elections.
// Run with `node --test src/browser/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { FakeSocket, sockets } from "./fake-socket.mjs";

// The flag scripts/build-pkg defines for pkg/shared.js, before transport.js loads.
globalThis.RESOCKET_SHARED_TABS = true;
globalThis.WebSocket = FakeSocket;
const { bindCore, coreImports } = await import("./transport.js");
const { SharedTransport } = await import("./tabs.js");

const WASM = new URL("../../target/shared-tabs/wasm32-unknown-unknown/release/resocket.wasm", import.meta.url);
bindCore(/** @type {any} */ (new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM)), coreImports).exports));

const options = { url: "ws://h.test/ws", heartbeatInterval: 0, delivery: "at-least-once" };
/** Every transport a test made, freed at its end. */
const made = [];
/** A tab of the shared connection `key`. */
function tab(key, extra = {}) {
  const transport = new SharedTransport({ ...options, shareAcrossTabs: key, ...extra });
  made.push(transport);
  return transport;
}
const freeAll = () => made.splice(0).forEach((transport) => transport.free());

/** Resolves once `check()` holds (channel messages and the lease's timers take their turns); fails after 5 s. */
async function until(what, check) {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 5000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
/** Lets the channel's messages in flight arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/** The socket that `transport`'s tab opened last (the leader's). */
const socketOf = (sessionId) => sockets.filter((socket) => socket.url.includes(`session_id=${sessionId}`)).at(-1);

/**
 * Two tabs of the shared connection `key`, once one of them leads and the
 * channel is quiet: the leader, the follower, and the leader's socket (not
 * yet open: the test opens it).
 */
async function pair(key, extra) {
  const [first, second] = [tab(key, extra), tab(key, extra)];
  await until("a leader", () => first.isLeader || second.isLeader);
  await settle();
  const [leader, follower] = first.isLeader ? [first, second] : [second, first];
  return { leader, follower, socket: socketOf(leader.sessionId) };
}

test("shareAcrossTabs: true, a name or false; anything else is a TypeError naming it", () => {
  for (const value of [1, "", null, {}]) {
    assert.throws(() => new SharedTransport({ ...options, shareAcrossTabs: value }), {
      name: "TypeError",
      message: /^resocket: shareAcrossTabs must be true, false or a non-empty string .*, got /,
    });
  }
  const plain = new SharedTransport({ ...options, shareAcrossTabs: false, autoConnect: false });
  assert.equal(plain.isLeader, true, "a transport that does not share holds its own connection");
  assert.equal(plain.send("a", 1), "queued");
  assert.equal(plain.queued().length, 1);
  plain.free();
  assert.throws(() => plain.isLeader, /freed/);
});

test("two tabs: one socket; a follower's sends go out on it under its own ids and settle in that tab only", async () => {
  const opened = sockets.length;
  const { leader, follower, socket } = await pair("pair");
  assert.equal(sockets.length - opened, 1, "one socket for two tabs");
  assert.equal(socket, sockets.at(-1));
  socket.open();
  await until("the follower sees the connection", () => follower.state === "connected");
  assert.equal(follower.sessionId, leader.sessionId, "one session");
  assert.equal(follower.isLeader, false);

  const followerSent = follower.sendWithAck("chat", { text: "from the follower" });
  let leaderSettled = false;
  // Rejected when the test frees it: only whether it settled early matters.
  leader.sendWithAck("chat", { text: "from the leader" }).then(() => (leaderSettled = true), () => {});
  await until("both on the wire", () => socket.sent.length >= 2);
  const [a, b] = socket.sent.map((frame) => JSON.parse(frame));
  const fromFollower = [a, b].find((envelope) => envelope.data.text === "from the follower");
  assert.ok(fromFollower, "the follower's envelope went out on the leader's socket");
  socket.receive({ type: "ack", id: fromFollower.id });
  assert.equal(await followerSent, fromFollower.id, "settled in the tab that sent it, with its id");
  await settle();
  assert.equal(leaderSettled, false, "the leader's own message is not settled by another's ack");
  assert.equal(follower.queued().length, 1, "every tab's mirror holds what is unsettled");
  freeAll();
});

test("frames reach every tab once, in order; the follower's filters are its own", async () => {
  const { leader, follower, socket } = await pair("frames");
  socket.open();
  const heard = { leader: [], follower: [], chats: [] };
  leader.on("message", (message) => heard.leader.push(message.seq));
  follower.on("message", (message) => heard.follower.push(message.seq));
  follower.onMessage("chat", (message) => heard.chats.push(message.data));
  for (const seq of [1, 2, 2, 3]) socket.receive({ type: seq === 3 ? "chat" : "news", data: `n${seq}`, seq });
  await until("the follower's frames", () => heard.follower.length >= 3);
  await settle();
  assert.deepEqual(heard.leader, [1, 2, 3], "the leader's core drops the replayed 2");
  assert.deepEqual(heard.follower, [1, 2, 3]);
  assert.deepEqual(heard.chats, ["n3"]);
  assert.equal(follower.snapshot().lastSeq, 3, "the follower shows the leader's snapshot");
  freeAll();
});

test("a frame published twice (a late one from the last leader, or two leaders at once) is delivered once", async () => {
  const { follower } = await pair("twice");
  const heard = [];
  follower.on("message", (message) => heard.push(message.data));
  // This test's own channel plays a leader that publishes what another already did.
  const other = new BroadcastChannel("resocket:twice");
  for (const [seq, data] of [[1, "a"], [2, "b"], [1, "a again"], [2, "b again"], [NaN, "unnumbered"], [3, "c"]]) {
    other.postMessage({ kind: "frame", seq, message: { type: "news", data, ...(seq === seq ? { seq } : {}) } });
  }
  await until("the follower's frames", () => heard.length >= 4);
  await settle();
  other.close();
  assert.deepEqual(heard, ["a", "b", "unnumbered", "c"]);
  freeAll();
});

test("a tab that joins late takes the leader's mirror: it shows the unsettled messages and re-sends them when it leads", async () => {
  const { leader, follower } = await pair("late");
  // Not connected: the messages wait in every mirror. (Rejected if its tab
  // is the one freed below: only the re-send matters here.)
  follower.sendWithAck("chat", { text: "waiting" }).catch(() => {});
  await settle();
  const late = tab("late");
  await until("the late tab has the leader's mirror", () => late.queued().length === 1);
  assert.equal(late.queued()[0].data.text, "waiting");
  // The other two go; the late tab leads and sends it first, under its id.
  const id = JSON.parse(JSON.stringify(late.queued()[0])).id;
  leader.free();
  await settle();
  // The follower is next in line or the late tab is: free whichever leads until the late one does.
  await until("a new leader", () => follower.isLeader || late.isLeader);
  if (follower.isLeader) {
    follower.free();
    await until("the late tab leads", () => late.isLeader);
  }
  const socket = sockets.at(-1);
  socket.open();
  await until("the re-send", () => socket.sent.length >= 1);
  assert.equal(JSON.parse(socket.sent[0]).id, id);
  freeAll();
});

test("a full shared queue under \"drop-newest\" lets go of the new message in every tab", async () => {
  const extra = { messageQueueSize: 1, queueOverflow: "drop-newest" };
  const { leader, follower, socket } = await pair("full", extra);
  const kept = follower.sendWithAck("chat", 1);
  assert.equal(follower.send("chat", 2), "dropped");
  await assert.rejects(follower.sendWithAck("chat", 3), /dropped: the shared queue was full/);
  await settle();
  assert.deepEqual(leader.queued().map((envelope) => envelope.data), [1], "the leader's mirror: the first one only");
  socket.open();
  await until("on the wire", () => socket.sent.length >= 1);
  assert.deepEqual(socket.sent.map((frame) => JSON.parse(frame).data), [1]);
  socket.receive({ type: "ack", id: JSON.parse(socket.sent[0]).id });
  await kept;
  freeAll();
});

test("the leader leaves: the follower takes over the session and re-sends what was unsettled, same ids", async () => {
  const { leader, follower, socket } = await pair("takeover");
  socket.open();
  socket.receive({ type: "welcome", data: { epoch: "e1" } });
  socket.receive({ type: "news", data: 1, seq: 1 });
  const pending = follower.sendWithAck("chat", { text: "unacknowledged" });
  await until("on the wire", () => socket.sent.length >= 1);
  const sent = JSON.parse(socket.sent.at(-1));
  await settle();

  const session = leader.sessionId;
  leader.free();
  await until("the follower leads", () => follower.isLeader);
  const next = sockets.at(-1);
  assert.notEqual(next, socket);
  assert.match(next.url, new RegExp(`session_id=${session}`), "the same session");
  assert.match(next.url, /last_seq=1/, "resumed after what the tab delivered");
  assert.match(next.url, /epoch=e1/, "in the epoch the leader announced");
  next.open();
  await until("the re-send", () => next.sent.length >= 1);
  const resent = JSON.parse(next.sent[0]);
  assert.equal(resent.id, sent.id, "re-sent with the id it was first sent with: the server drops a copy");
  next.receive({ type: "ack", id: sent.id });
  assert.equal(await pending, sent.id);
  assert.equal(follower.sessionId, session);
  freeAll();
});

test("commands and raw frames from a follower run on the leader's connection", async () => {
  const { leader, follower, socket } = await pair("commands");
  socket.open();
  await until("connected", () => follower.state === "connected");

  follower.sendRaw("raw text");
  await until("the raw frame on the wire", () => socket.sent.includes("raw text"));

  // Checked in the follower by its own core, as in one tab.
  assert.throws(() => follower.disconnect(1234), { name: "RangeError", message: /^resocket: code must be 1000 or from 3000 to 4999/ });
  const dropped = follower.sendWithAck("chat", 1);
  await until("on the wire", () => socket.sent.length >= 2);
  follower.clearQueue();
  await assert.rejects(dropped, /clearQueue/);
  assert.equal(follower.queued().length, 0);

  follower.disconnect(4000, "bye");
  await until("the leader closed", () => socket.closedWith !== null);
  assert.deepEqual(socket.closedWith, [4000, "bye"]);
  await until("every tab shows it", () => follower.state === "disconnected" && leader.state === "disconnected");
  follower.connect();
  await until("the leader connects again", () => sockets.at(-1) !== socket);
  freeAll();
});

test("a command asked while the leader goes is run by the next one", async () => {
  const [first, second, third] = [tab("handover"), tab("handover"), tab("handover")];
  await until("a leader", () => [first, second, third].some((t) => t.isLeader));
  const leader = [first, second, third].find((t) => t.isLeader);
  const [asker, heir] = [first, second, third].filter((t) => t !== leader);
  await settle();
  socketOf(leader.sessionId).open();
  await until("connected", () => asker.state === "connected");
  // The leader goes without a word (as a crashed tab): the command reaches nobody who runs it.
  leader.free();
  asker.disconnect(4001, "asked during the hand-over");
  await until("a new leader", () => asker.isLeader || heir.isLeader);
  await until("the disconnect ran", () => asker.state === "disconnected" && heir.state === "disconnected");
  const closed = sockets.filter((socket) => socket.closedWith?.[0] === 4001);
  assert.ok(closed.length <= 1);
  assert.equal(asker.snapshot().disconnectReason, "client");
  freeAll();
});

test("freeing a follower rejects its own pending sends; the leader keeps its connection", async () => {
  const { leader, follower, socket } = await pair("free");
  socket.open();
  const pending = follower.sendWithAck("chat", 1);
  follower.free();
  await assert.rejects(pending, /freed before the message was acknowledged/);
  assert.throws(() => follower.send("a", 1), /freed/);
  assert.equal(leader.state, "connected");
  assert.equal(socket.closedWith, null);
  freeAll();
});
