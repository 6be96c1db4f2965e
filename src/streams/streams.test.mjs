// Unit tests of resocket/streams as the package ships it (pkg/streams.js,
// written by scripts/build-pkg). The transport's part is played by a source
// that hands the helper envelopes and events the way WebSocketTransport does
// (onMessage per type, on per event); e2e/streams.test.mjs runs the helper on
// the real transport in Chromium against the real server, through
// reconnects. Run with `node --test src/streams/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ReplyStreams } from "../../pkg/streams.js";

/** Plays the transport: delivers envelopes by type and events by name. */
class Source {
  handlers = new Map();
  #add(name, handler) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(handler);
    return () => this.handlers.get(name).delete(handler);
  }
  onMessage(type, handler) {
    return this.#add(`message:${type}`, handler);
  }
  on(event, handler) {
    return this.#add(`event:${event}`, handler);
  }
  deliver(envelope) {
    for (const handler of this.handlers.get(`message:${envelope.type}`) ?? []) handler(envelope);
  }
  emit(event, argument) {
    for (const handler of this.handlers.get(`event:${event}`) ?? []) handler(argument);
  }
  get listening() {
    return [...this.handlers.values()].reduce((sum, set) => sum + set.size, 0);
  }
}

const token = (token, { stream, replyTo, done = false, type = "token" } = {}) => ({
  type,
  data: stream === undefined ? { token, done } : { stream, token, done },
  ...(replyTo === undefined ? {} : { replyTo }),
});

test("pieces are joined per reply: by data.stream, else replyTo, else one unnamed reply", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  source.deliver(token("Hel", { stream: "a", replyTo: "m1" }));
  source.deliver(token("Hi ", { replyTo: "m2" }));
  source.deliver(token("lo", { stream: "a", replyTo: "m1" }));
  source.deliver(token("there", { replyTo: "m2" }));
  source.deliver(token("anon "));
  source.deliver(token("", { stream: "a", done: true }));
  source.deliver(token("reply", { done: true }));
  assert.deepEqual(replies.get("a"), { key: "a", text: "Hello", tokens: 3, done: true, interrupted: false, replyTo: "m1" });
  assert.deepEqual(replies.get("m2"), { key: "m2", text: "Hi there", tokens: 2, done: false, interrupted: false, replyTo: "m2" });
  assert.deepEqual(replies.get(""), { key: "", text: "anon reply", tokens: 2, done: true, interrupted: false, replyTo: null });
  assert.deepEqual(
    replies.list().map((reply) => reply.key),
    ["a", "m2", ""],
    "the reply started first comes first",
  );
});

test("a piece after the last one starts the next reply under that key, as the newest", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  source.deliver(token("first", { done: true }));
  source.deliver(token("other", { stream: "b" }));
  source.deliver(token("second"));
  assert.equal(replies.get("").text, "second");
  assert.equal(replies.get("").done, false);
  assert.deepEqual(replies.list().map((reply) => reply.key), ["b", ""]);
});

test("frames that are not pieces are ignored; the type is an option", () => {
  const source = new Source();
  const replies = new ReplyStreams(source, { type: "delta" });
  source.deliver(token("ignored: another type"));
  for (const data of [null, "text", 5, { token: 5 }, { text: "no token field" }]) {
    source.deliver({ type: "delta", data });
  }
  assert.equal(replies.list().length, 0);
  source.deliver(token("counted", { type: "delta" }));
  assert.equal(replies.get("").text, "counted");
});

test("a gap or a reset marks every unfinished reply interrupted, and it keeps assembling", () => {
  for (const lose of [(source) => source.deliver({ type: "gap", data: { after: 3, firstAvailable: 9 } }),
    (source) => source.emit("reset", { previousSeq: 7, firstSeq: 1 })]) {
    const source = new Source();
    const replies = new ReplyStreams(source);
    source.deliver(token("finished", { stream: "done", done: true }));
    source.deliver(token("half ", { stream: "open" }));
    const updates = [];
    replies.onUpdate((reply) => updates.push(reply));
    lose(source);
    assert.deepEqual(updates.map((reply) => [reply.key, reply.interrupted]), [["open", true]]);
    assert.equal(replies.get("done").interrupted, false, "a finished reply lost nothing");
    source.deliver(token("rest", { stream: "open", done: true }));
    assert.deepEqual(replies.get("open"), { key: "open", text: "half rest", tokens: 2, done: true, interrupted: true, replyTo: null });
    lose(source);
    assert.equal(updates.length, 2, "nothing unfinished, nothing to tell");
  }
});

test("each change is a new frozen reply and a new frozen list; nothing else changes them", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  const empty = replies.list();
  assert.equal(replies.list(), empty, "the same list until a change");
  let calls = 0;
  const unsubscribe = replies.subscribe(() => calls++);
  source.deliver(token("a", { stream: "s" }));
  const first = replies.get("s");
  const list = replies.list();
  assert.ok(Object.isFrozen(first) && Object.isFrozen(list));
  assert.notEqual(list, empty);
  source.deliver(token("b", { stream: "s" }));
  assert.notEqual(replies.get("s"), first);
  assert.equal(first.text, "a", "an earlier reply object is never mutated");
  assert.equal(calls, 2);
  unsubscribe();
  source.deliver(token("c", { stream: "s" }));
  assert.equal(calls, 2);
});

test("past the limit the oldest finished reply goes first, then the oldest", () => {
  const source = new Source();
  const replies = new ReplyStreams(source, { limit: 2 });
  source.deliver(token("1", { stream: "open-1" }));
  source.deliver(token("2", { stream: "done-2", done: true }));
  source.deliver(token("3", { stream: "open-3" }));
  assert.deepEqual(replies.list().map((reply) => reply.key), ["open-1", "open-3"]);
  source.deliver(token("4", { stream: "open-4" }));
  assert.deepEqual(replies.list().map((reply) => reply.key), ["open-3", "open-4"]);
  assert.equal(replies.delete("open-3"), true);
  assert.equal(replies.delete("open-3"), false);
  assert.deepEqual(replies.list().map((reply) => reply.key), ["open-4"]);
});

test("dispose detaches from the transport and forgets everything, twice over", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  assert.equal(source.listening, 3, "pieces, gaps and resets");
  source.deliver(token("x"));
  replies[Symbol.dispose]();
  replies.dispose();
  assert.equal(source.listening, 0);
  assert.equal(replies.list().length, 0);
  source.deliver(token("after"));
  assert.equal(replies.get(""), undefined);
});

test("bad options are a TypeError or RangeError naming the option", () => {
  const source = new Source();
  assert.throws(() => new ReplyStreams(source, { type: "" }), { name: "TypeError", message: /type/ });
  assert.throws(() => new ReplyStreams(source, { type: 5 }), { name: "TypeError", message: /type/ });
  assert.throws(() => new ReplyStreams(source, { limit: "5" }), { name: "TypeError", message: /limit/ });
  for (const limit of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new ReplyStreams(source, { limit }), { name: "RangeError", message: /limit/ });
  }
  assert.equal(source.listening, 0, "a refused helper attaches nothing");
});

const indexed = (index, token, { stream = "s", done = false } = {}) => ({ type: "token", data: { stream, index, token, done } });

test("pieces with an index are joined in index order, each once, whatever order they come in", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  const updates = [];
  replies.onUpdate((reply) => updates.push(reply.text));
  for (const piece of [indexed(0, "a"), indexed(2, "c"), indexed(1, "b"), indexed(1, "b"), indexed(4, "", { done: true }), indexed(3, "d")]) {
    source.deliver(piece);
  }
  assert.deepEqual(replies.get("s"), { key: "s", text: "abcd", tokens: 5, done: true, interrupted: false, replyTo: null });
  assert.deepEqual(updates, ["a", "abc", "abcd"], "held-back pieces join when the missing one comes; a repeat changes nothing");
});

test("a reply whose first piece is not piece 0 is marked interrupted at once", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  source.deliver(indexed(3, "late "));
  source.deliver(indexed(4, "rest", { done: true }));
  assert.deepEqual(replies.get("s"), { key: "s", text: "late rest", tokens: 2, done: true, interrupted: true, replyTo: null });
});

test("a gap joins the held-back pieces in order and marks the reply interrupted; so does waiting too long", () => {
  const source = new Source();
  const replies = new ReplyStreams(source);
  source.deliver(indexed(0, "a"));
  source.deliver(indexed(3, "d"));
  source.deliver(indexed(2, "c"));
  assert.equal(replies.get("s").text, "a", "c and d wait for b");
  source.deliver({ type: "gap", data: { after: 1, firstAvailable: 5 } });
  assert.deepEqual([replies.get("s").text, replies.get("s").interrupted], ["acd", true]);
  // After the gap the server sends what it kept: from piece 7 on. Known
  // lost, the reply does not wait for 4–6.
  source.deliver(indexed(7, "h"));
  source.deliver(indexed(8, "", { done: true }));
  assert.deepEqual([replies.get("s").text, replies.get("s").done], ["acdh", true]);

  source.deliver(indexed(0, "x", { stream: "long" }));
  for (let index = 2; index <= 258; index++) source.deliver(indexed(index, ".", { stream: "long" }));
  const long = replies.get("long");
  assert.equal(long.interrupted, true, "piece 1 never came: after 256 held back it is given up");
  assert.equal(long.text, "x" + ".".repeat(257));
});

test("delete tells subscribers; the reply just changed is never the one trimmed", () => {
  const source = new Source();
  const replies = new ReplyStreams(source, { limit: 1 });
  let calls = 0;
  replies.subscribe(() => calls++);
  source.deliver(token("open", { stream: "a" }));
  source.deliver(token("whole", { stream: "b", done: true }));
  assert.deepEqual(replies.list().map((reply) => reply.key), ["b"], "the new reply stays, even finished");
  assert.equal(replies.delete("b"), true);
  assert.equal(calls, 3);
  assert.deepEqual(replies.list(), []);
});
