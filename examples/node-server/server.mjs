// A minimal resocket server in Node, written from PROTOCOL.md alone: envelopes,
// heartbeat, numbered frames with replay (§4) under an epoch (§4.1, v1.1),
// acks with duplicate suppression (§5), and the HTTP fallback (§6) with
// long-polling (§6.2). `node server.mjs [--port N]` (0 = any free
// port) prints `listening on http://127.0.0.1:PORT`.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const REPLAY = 1000; // numbered frames kept per session
const SEEN = 10_000; // ids remembered per session

const sessions = new Map();
function session(id) {
  let s = sessions.get(id);
  if (!s) {
    // §4.1: a new log, a new epoch.
    const epoch = randomBytes(8).toString("hex");
    sessions.set(id, (s = { epoch, lastSeq: 0, kept: [], seen: new Set(), seenOrder: [], streams: new Set() }));
  }
  return s;
}

// §4: number a frame in the session's stream and keep it for replay.
function numbered(s, envelope) {
  const text = JSON.stringify({ ...envelope, seq: ++s.lastSeq });
  s.kept.push([s.lastSeq, text]);
  if (s.kept.length > REPLAY) s.kept.shift();
  return text;
}

function replayAfter(s, after) {
  const first = s.kept.length ? s.kept[0][0] : s.lastSeq + 1;
  const frames = [];
  if (after + 1 < first && after < s.lastSeq) {
    frames.push([null, JSON.stringify({ type: "gap", data: { after, firstAvailable: first } })]);
  }
  for (const frame of s.kept) if (frame[0] > after) frames.push(frame);
  return frames;
}

// §4.1: what a channel starts with, as [seq or null, text]: for a v1.1 client
// the welcome, then a reset and the whole kept stream when it asks to resume a
// stream that is not this one; otherwise what followed last_seq.
function opening(s, query, lastSeq) {
  const v11 = query.get("protocol") === "1.1";
  const epoch = query.get("epoch");
  const frames = [];
  if (!v11) return Number.isInteger(lastSeq) ? replayAfter(s, lastSeq) : frames;
  frames.push([null, welcomeFrame(s)]);
  if (!Number.isInteger(lastSeq)) return frames;
  if ((epoch !== null && epoch !== s.epoch) || lastSeq > s.lastSeq) {
    frames.push([null, resetFrame(s, epoch, lastSeq)]);
    return frames.concat(s.kept);
  }
  return frames.concat(replayAfter(s, lastSeq));
}

function welcomeFrame(s) {
  return JSON.stringify({ type: "welcome", data: { epoch: s.epoch, lastSeq: s.lastSeq } });
}

function resetFrame(s, previousEpoch, after) {
  const firstSeq = s.kept.length ? s.kept[0][0] : s.lastSeq + 1;
  return JSON.stringify({ type: "reset", data: { epoch: s.epoch, previousEpoch, after, firstSeq } });
}

// §5: true the first time an id is seen in the session.
function firstTime(s, id) {
  if (s.seen.has(id)) return false;
  s.seen.add(id);
  s.seenOrder.push(id);
  if (s.seenOrder.length > SEEN) s.seen.delete(s.seenOrder.shift());
  return true;
}

// §2–§5: what to send back for one text frame: [control frames, numbered replies].
function answer(s, text, acknowledge) {
  let envelope;
  try {
    envelope = JSON.parse(text);
  } catch {
    return [[], [numbered(s, { type: "error", data: { code: "invalid-json", message: "frame is not JSON" } })]];
  }
  if (envelope === null || typeof envelope !== "object" || Array.isArray(envelope) || typeof envelope.type !== "string") {
    return [[], [numbered(s, { type: "error", data: { code: "missing-type", message: "no string type" } })]];
  }
  if (envelope.type === "ping") {
    return [[JSON.stringify({ type: "pong", id: envelope.id ?? null, timestamp: envelope.timestamp ?? null })], []];
  }
  const control = [];
  if (acknowledge && typeof envelope.id === "string") {
    control.push(JSON.stringify({ type: "ack", id: envelope.id }));
    if (!firstTime(s, envelope.id)) return [control, []];
  }
  const reply =
    envelope.type === "message"
      ? { type: "message", data: envelope.data ?? null, replyTo: envelope.id ?? null, timestamp: new Date().toISOString() }
      : envelope;
  return [control, [numbered(s, reply)]];
}

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type, last-event-id",
};

const http = createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  const sessionId = url.searchParams.get("session_id");
  if (request.method === "OPTIONS") return response.writeHead(204, cors).end();
  if (url.pathname === "/messages" && request.method === "POST" && sessionId) {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      let envelopes;
      try {
        envelopes = JSON.parse(body);
      } catch {}
      if (!Array.isArray(envelopes)) {
        return response.writeHead(400, { ...cors, "content-type": "application/json" }).end('{"error":"expected an array"}');
      }
      const s = session(sessionId);
      const acknowledge = url.searchParams.get("ack") === "1";
      const out = [];
      // §4.1: a v1.1 client that does not know this epoch hears it first.
      const epoch = url.searchParams.get("epoch");
      if (url.searchParams.get("protocol") === "1.1" && epoch !== s.epoch) {
        out.push(welcomeFrame(s));
        if (epoch !== null) out.push(resetFrame(s, epoch, null));
      }
      for (const envelope of envelopes) {
        const [control, replies] = answer(s, JSON.stringify(envelope), acknowledge);
        out.push(...control, ...replies);
      }
      response.writeHead(200, { ...cors, "content-type": "application/json" }).end(`[${out.join(",")}]`);
    });
    return;
  }
  // A push of the server's own (not in PROTOCOL.md: how this server's
  // tests make one): `{"type":"push","data":{"n"}}`, numbered, down every
  // event stream and poll of the session.
  if (url.pathname === "/push" && request.method === "POST" && sessionId) {
    const s = session(sessionId);
    const text = numbered(s, { type: "push", data: { n: Number(url.searchParams.get("n")) } });
    for (const send of s.streams) send([s.lastSeq, text]);
    return response.writeHead(204, cors).end();
  }
  if (url.pathname === "/events" && request.method === "GET" && sessionId && url.searchParams.has("poll")) {
    // §6.2: a long-poll. Its opening at once when it holds more than a
    // welcome the client knows (or no wait was asked), else the first frame
    // to arrive within the wait, else [].
    const s = session(sessionId);
    const first = opening(s, url.searchParams, Number(url.searchParams.get("last_seq") ?? NaN));
    const known = url.searchParams.get("protocol") === "1.1" && url.searchParams.get("epoch") !== null ? 1 : 0;
    const wait = Math.min(Number(url.searchParams.get("poll")) || 0, 25_000);
    let timer;
    const answer = (texts) => {
      s.streams.delete(wake);
      clearTimeout(timer);
      response.writeHead(200, { ...cors, "content-type": "application/json", "cache-control": "no-store" }).end(`[${texts.join(",")}]`);
    };
    const wake = ([, text]) => answer([text]);
    if (first.length > known || wait === 0) return answer(first.map(([, text]) => text));
    timer = setTimeout(() => answer([]), wait);
    s.streams.add(wake);
    response.on("close", () => {
      s.streams.delete(wake);
      clearTimeout(timer);
    });
    return;
  }
  if (url.pathname === "/events" && request.method === "GET" && sessionId) {
    const s = session(sessionId);
    response.writeHead(200, { ...cors, "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.write(": open\n\n"); // some browsers report the stream open only once bytes arrive
    const after = Number(request.headers["last-event-id"] ?? url.searchParams.get("last_seq") ?? NaN);
    const send = ([seq, text]) => response.write(`${seq === null ? "" : `id: ${seq}\n`}data: ${text}\n\n`);
    opening(s, url.searchParams, after).forEach(send);
    s.streams.add(send);
    response.on("close", () => s.streams.delete(send));
    return;
  }
  response.writeHead(404, cors).end();
});

const sockets = new WebSocketServer({ noServer: true });
http.on("upgrade", (request, socket, head) => {
  const url = new URL(request.url, "http://localhost");
  if (url.pathname !== "/ws") return socket.destroy();
  sockets.handleUpgrade(request, socket, head, (ws) => {
    const s = session(url.searchParams.get("session_id") ?? `anonymous-${Math.random()}`);
    const acknowledge = url.searchParams.get("ack") === "1";
    const lastSeq = Number(url.searchParams.get("last_seq") ?? NaN);
    for (const [, text] of opening(s, url.searchParams, lastSeq)) ws.send(text);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return ws.send(data, { binary: true });
      const [control, replies] = answer(s, data.toString(), acknowledge);
      for (const text of [...control, ...replies]) ws.send(text);
    });
  });
});

const portFlag = process.argv.indexOf("--port");
const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 8081;
http.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${http.address().port}`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const ws of sockets.clients) ws.close(1001, "server shutting down");
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
