// PROTOCOL.md as a test: the same conformance checks against resocket-server
// and against the second server in examples/node-server, written from the
// document alone. If both pass, the contract is what the document says.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { startNodeServer, startServer } from "./support.mjs";

// A socket whose incoming envelopes can be awaited one at a time.
async function open(url) {
  const socket = new WebSocket(url);
  const inbox = [];
  const waiting = [];
  socket.on("message", (data) => {
    const envelope = JSON.parse(data.toString());
    const resolve = waiting.shift();
    if (resolve) resolve(envelope);
    else inbox.push(envelope);
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return {
    send: (value) => socket.send(typeof value === "string" ? value : JSON.stringify(value)),
    next: () =>
      inbox.length
        ? Promise.resolve(inbox.shift())
        : new Promise((resolve, reject) => {
            waiting.push(resolve);
            setTimeout(() => reject(new Error("no envelope within 5 s")), 5000).unref();
          }),
    close: () =>
      new Promise((resolve) => {
        socket.once("close", resolve);
        socket.close();
      }),
  };
}

async function readEvents(response, count) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events = [];
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = block.match(/^id: ?(.*)$/m)?.[1];
      const data = block.match(/^data: ?(.*)$/m)?.[1];
      if (data !== undefined) events.push({ id: id === undefined ? null : Number(id), data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return events;
}

for (const [name, start] of [
  ["resocket-server (Rust)", () => startServer([])],
  ["examples/node-server (Node, from PROTOCOL.md)", startNodeServer],
]) {
  describe(`PROTOCOL.md conformance: ${name}`, () => {
    let server;
    let ws;
    let counter = 0;
    const session = () => `conformance-${process.pid}-${++counter}`;

    before(async () => {
      server = await start();
      ws = server.url.replace("http", "ws");
    });
    after(() => server?.stop());

    test("§3 a ping gets a pong with the same id and timestamp, unnumbered", async () => {
      const socket = await open(`${ws}/ws?session_id=${session()}`);
      socket.send({ type: "ping", id: "p1", timestamp: "T" });
      const pong = await socket.next();
      assert.equal(pong.type, "pong");
      assert.equal(pong.id, "p1");
      assert.equal(pong.timestamp, "T");
      assert.equal(pong.seq, undefined);
      await socket.close();
    });

    test("§2 §4 replies are numbered from 1; bad frames get an error and the socket stays", async () => {
      const socket = await open(`${ws}/ws?session_id=${session()}`);
      socket.send({ type: "message", data: { text: "hi" }, id: "m1" });
      const echo = await socket.next();
      assert.deepEqual([echo.type, echo.replyTo, echo.data, echo.seq], ["message", "m1", { text: "hi" }, 1]);
      socket.send("not json");
      const error = await socket.next();
      assert.deepEqual([error.type, error.data.code, error.seq], ["error", "invalid-json", 2]);
      socket.send({ type: "typing", data: "ann", id: "t1" });
      const typing = await socket.next();
      assert.deepEqual([typing.type, typing.data, typing.seq], ["typing", "ann", 3]);
      await socket.close();
    });

    test("§4 reconnecting with last_seq replays what followed, in order", async () => {
      const id = session();
      const first = await open(`${ws}/ws?session_id=${id}`);
      for (const m of ["a", "b", "c"]) {
        first.send({ type: "message", data: m, id: m });
        await first.next();
      }
      await first.close();
      const resumed = await open(`${ws}/ws?session_id=${id}&last_seq=1`);
      const replayed = [await resumed.next(), await resumed.next()];
      assert.deepEqual(replayed.map((f) => [f.seq, f.replyTo]), [[2, "b"], [3, "c"]]);
      await resumed.close();
    });

    test("§5 with ack=1 each id is acknowledged and a resend is not processed again", async () => {
      const id = session();
      const socket = await open(`${ws}/ws?session_id=${id}&ack=1`);
      socket.send({ type: "message", data: 1, id: "x" });
      assert.deepEqual(await socket.next(), { type: "ack", id: "x" });
      assert.equal((await socket.next()).replyTo, "x");
      socket.send({ type: "message", data: 1, id: "x" });
      assert.deepEqual(await socket.next(), { type: "ack", id: "x" });
      socket.send({ type: "message", data: 2, id: "y" });
      assert.deepEqual(await socket.next(), { type: "ack", id: "y" });
      const reply = await socket.next();
      assert.deepEqual([reply.replyTo, reply.seq], ["y", 2], "the resend produced nothing");
      await socket.close();
    });

    test("§6 POST /messages answers with acks and numbered replies; bad bodies are 400", async () => {
      const id = session();
      const post = (body, query = "") =>
        fetch(`${server.url}/messages?session_id=${id}${query}`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: "http://127.0.0.1:9" },
          body,
        });
      const response = await post(JSON.stringify([{ type: "message", data: "h", id: "h1" }]), "&ack=1");
      assert.equal(response.status, 200);
      // The client's origin is allowed (by name, or with "*").
      assert.match(response.headers.get("access-control-allow-origin"), /^(\*|http:\/\/127\.0\.0\.1:9)$/);
      const answers = await response.json();
      assert.deepEqual(answers[0], { type: "ack", id: "h1" });
      assert.deepEqual([answers[1].replyTo, answers[1].seq], ["h1", 1]);
      assert.equal((await post('{"type":"message"}')).status, 400);
    });

    test("§4.1 a v1.1 client hears the epoch first; a v1 client hears nothing new", async () => {
      const id = session();
      const v1 = await open(`${ws}/ws?session_id=${id}`);
      v1.send({ type: "message", data: "a", id: "a" });
      assert.deepEqual([(await v1.next()).type], ["message"], "no welcome without protocol=1.1");
      await v1.close();
      const v11 = await open(`${ws}/ws?session_id=${id}&protocol=1.1`);
      const welcome = await v11.next();
      assert.equal(welcome.type, "welcome");
      assert.match(welcome.data.epoch, /^.{8,}$/);
      assert.equal(welcome.data.lastSeq, 1);
      assert.equal(welcome.seq, undefined, "control frames are never numbered");
      v11.send({ type: "message", data: "b", id: "b" });
      assert.equal((await v11.next()).seq, 2, "the welcome took no number");
      await v11.close();
    });

    test("§4.1 resuming in the same epoch continues; another epoch or a position past the end resets", async () => {
      const id = session();
      const first = await open(`${ws}/ws?session_id=${id}&protocol=1.1`);
      const { epoch } = (await first.next()).data;
      for (const m of ["a", "b", "c"]) {
        first.send({ type: "message", data: m, id: m });
        await first.next();
      }
      await first.close();

      const same = await open(`${ws}/ws?session_id=${id}&protocol=1.1&epoch=${epoch}&last_seq=2`);
      assert.equal((await same.next()).type, "welcome");
      assert.deepEqual([(await same.next()).seq], [3], "no reset: the replay follows the welcome");
      await same.close();

      for (const query of [`epoch=elsewhere&last_seq=2`, `epoch=${epoch}&last_seq=9`]) {
        const stale = await open(`${ws}/ws?session_id=${id}&protocol=1.1&${query}`);
        assert.equal((await stale.next()).type, "welcome", query);
        const reset = await stale.next();
        assert.equal(reset.type, "reset", query);
        assert.equal(reset.data.epoch, epoch);
        assert.equal(reset.data.firstSeq, 1);
        assert.equal(reset.seq, undefined);
        const replayed = [await stale.next(), await stale.next(), await stale.next()];
        assert.deepEqual(replayed.map((f) => f.seq), [1, 2, 3], `${query}: the whole stream, from its first seq`);
        await stale.close();
      }
    });

    test("§4.1 a restarted server is a new epoch: the old position is reset, nothing dropped", async () => {
      const id = session();
      const before = await open(`${ws}/ws?session_id=${id}&protocol=1.1`);
      const { epoch } = (await before.next()).data;
      before.send({ type: "message", data: "old", id: "old" });
      await before.next();
      await before.close();
      // Another process: a restart, as far as the session can tell.
      const restarted = await start();
      try {
        const wsRestarted = restarted.url.replace("http", "ws");
        const other = await open(`${wsRestarted}/ws?session_id=${id}&protocol=1.1`);
        assert.notEqual((await other.next()).data.epoch, epoch);
        other.send({ type: "message", data: "new", id: "new" });
        assert.equal((await other.next()).seq, 1, "the new log numbers from 1");
        await other.close();
        const resumed = await open(`${wsRestarted}/ws?session_id=${id}&protocol=1.1&epoch=${epoch}&last_seq=1`);
        assert.equal((await resumed.next()).type, "welcome");
        const reset = await resumed.next();
        assert.deepEqual([reset.type, reset.data.previousEpoch, reset.data.after], ["reset", epoch, 1]);
        const first = await resumed.next();
        assert.deepEqual([first.seq, first.replyTo], [1, "new"], "seq 1 of the new stream is delivered, not taken for a replay");
        await resumed.close();
      } finally {
        await restarted.stop();
      }
    });

    test("§4.1 the event stream opens with the welcome; a POST tells an epoch the client does not know", async () => {
      const id = session();
      const post = (query) =>
        fetch(`${server.url}/messages?session_id=${id}&protocol=1.1${query}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify([{ type: "message", data: 1, id: `p${query.length}` }]),
        }).then((r) => r.json());
      const [welcome, reply] = await post("");
      assert.deepEqual([welcome.type, reply.seq], ["welcome", 1]);
      const { epoch } = welcome.data;
      const known = await post(`&epoch=${epoch}`);
      assert.deepEqual(known.map((f) => f.type), ["message"], "a client that knows the epoch hears no preamble");
      const stale = await post("&epoch=elsewhere");
      assert.deepEqual(stale.map((f) => f.type), ["welcome", "reset", "message"]);
      const response = await fetch(`${server.url}/events?session_id=${id}&protocol=1.1&epoch=${epoch}&last_seq=1`);
      const events = await readEvents(response, 3);
      assert.deepEqual(events.map((e) => [e.id, e.data.type]), [[null, "welcome"], [2, "message"], [3, "message"]]);
    });

    test("§6 GET /events replays numbered frames as events whose id is the seq", async () => {
      const id = session();
      await fetch(`${server.url}/messages?session_id=${id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([1, 2, 3].map((n) => ({ type: "message", data: n, id: `e${n}` }))),
      });
      const response = await fetch(`${server.url}/events?session_id=${id}`, { headers: { "Last-Event-ID": "1" } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type"), /^text\/event-stream/);
      const events = await readEvents(response, 2);
      assert.deepEqual(events.map((e) => [e.id, e.data.seq, e.data.replyTo]), [[2, 2, "e2"], [3, 3, "e3"]]);
    });
  });
}
