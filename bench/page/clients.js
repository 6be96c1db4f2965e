// One adapter per client under test, all with the same small interface so the
// measurements in bench.js treat them alike:
//
//   const conn = await client.open({ ws, session, firstDelayMs });
//   conn.onMessage = (data) => …;   // parsed envelope, or ArrayBuffer
//   conn.sendEnvelope(payload);     // {"type":"message","id",…} as text
//   conn.sendBinary(arrayBuffer);
//   conn.onReopen = () => …;        // after a drop, once reconnected
//   await conn.close();
//
// Every client sends the same JSON envelope as resocket and parses the reply
// with JSON.parse, as an app would; resocket does both inside its own
// send/receive.
import ReconnectingWebSocket from "reconnecting-websocket";
import PartySocket from "partysocket/ws";
import { io } from "socket.io-client";

// Clients that grow the delay until a connection has stayed up this long
// (resocket, reconnecting-websocket, partysocket) get a short one, so every
// drop in the reconnect runs meets the first delay, as socket.io's and the
// raw loop's do.
export const MIN_UPTIME_MS = 50;

// The same frame resocket's send() writes: {type, data, id, timestamp} with
// an id of the same shape (random prefix, counter) and an ISO timestamp, so
// every client moves the same bytes and does the same encoding work; what
// differs is the transport's own cost.
const idPrefix = Math.floor(Math.random() * 2 ** 32).toString(36);
let nextId = 0;
const envelope = (payload) =>
  JSON.stringify({ type: "message", data: payload, id: `${idPrefix}-${++nextId}`, timestamp: new Date().toISOString() });
const parse = (data) => (typeof data === "string" ? JSON.parse(data) : data);

// Clients built on the WebSocket API (raw, reconnecting-websocket, partysocket).
function socketLike(create) {
  return async ({ ws, session, firstDelayMs }) => {
    const socket = create(`${ws}?session_id=${session}`, firstDelayMs);
    socket.binaryType = "arraybuffer";
    const conn = {
      onMessage: null,
      onReopen: null,
      socket,
      sendEnvelope: (payload) => socket.send(envelope(payload)),
      sendBinary: (buffer) => socket.send(buffer),
      close: () =>
        new Promise((resolve) => {
          if (socket.readyState === 3) return resolve();
          socket.addEventListener("close", () => resolve(), { once: true });
          socket.close();
        }),
    };
    socket.onmessage = (event) => conn.onMessage?.(parse(event.data));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    });
    socket.addEventListener("open", () => conn.onReopen?.());
    return conn;
  };
}

// The limit: the browser's WebSocket, with the reconnect an app would write
// by hand (the same first delay, then a new socket).
function rawOpen({ ws, session, firstDelayMs }) {
  const url = `${ws}?session_id=${session}`;
  return new Promise((resolve, reject) => {
    let closedByUs = false;
    const conn = {
      onMessage: null,
      onReopen: null,
      sendEnvelope: (payload) => conn.socket.send(envelope(payload)),
      sendBinary: (buffer) => conn.socket.send(buffer),
      close: () =>
        new Promise((done) => {
          closedByUs = true;
          if (conn.socket.readyState === 3) return done();
          conn.socket.addEventListener("close", () => done(), { once: true });
          conn.socket.close();
        }),
    };
    const connect = (first) => {
      const socket = new WebSocket(url);
      socket.binaryType = "arraybuffer";
      conn.socket = socket;
      socket.onmessage = (event) => conn.onMessage?.(parse(event.data));
      socket.onopen = () => (first ? resolve(conn) : conn.onReopen?.());
      socket.onerror = () => first && reject(new Error("raw WebSocket failed to open"));
      socket.onclose = () => {
        if (!closedByUs) setTimeout(() => connect(false), firstDelayMs);
      };
    };
    connect(true);
  });
}

// resocket from the package at `path` (pkg/, or an A/B baseline built from
// another commit and served at /pkg-baseline/).
const resocketFrom = (path) =>
  async function resocketOpen({ ws, session, firstDelayMs }) {
    const { default: init, WebSocketTransport } = await import(path);
    await init(); // once per module: it returns the same promise
    const transport = new WebSocketTransport({
      url: ws,
      sessionId: session,
      reconnectInterval: firstDelayMs,
      reconnectJitter: 0,
      maxReconnectAttempts: Infinity,
      minUptime: MIN_UPTIME_MS,
    });
    const conn = {
      onMessage: null,
      onReopen: null,
      transport,
      sendEnvelope: (payload) => transport.send("message", payload),
      sendBinary: (buffer) => transport.sendRaw(buffer),
      close: async () => transport.free(),
    };
    transport.on("message", (message) => conn.onMessage?.(message));
    await new Promise((resolve) => {
      const off = transport.on("open", () => {
        off();
        resolve();
      });
    });
    transport.on("open", () => conn.onReopen?.());
    return conn;
  };

// socket.io talks to its own server (bench/socketio-server.mjs), which answers
// an envelope with the same reply shape as resocket-server.
async function socketIoOpen({ socketIo, session, firstDelayMs }) {
  const socket = io(socketIo, {
    transports: ["websocket"],
    query: { session_id: session },
    reconnectionDelay: firstDelayMs,
    randomizationFactor: 0,
    forceNew: true,
  });
  const conn = {
    onMessage: null,
    onReopen: null,
    socket,
    sendEnvelope: (payload) => socket.emit("message", envelope(payload)),
    sendBinary: (buffer) => socket.emit("binary", buffer),
    close: async () => socket.disconnect(),
  };
  socket.on("message", (text) => conn.onMessage?.(JSON.parse(text)));
  socket.on("binary", (buffer) => conn.onMessage?.(buffer));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  socket.io.on("reconnect", () => conn.onReopen?.());
  return conn;
}

const reconnectingOptions = (firstDelayMs) => ({
  minReconnectionDelay: firstDelayMs,
  minUptime: MIN_UPTIME_MS,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 2,
  maxRetries: Infinity,
});

// `?baseline=1`: the page also runs resocket from /pkg-baseline/ (scripts/bench
// --baseline-ref REF), interleaved with the rest: an A/B in one run.
const baseline = typeof location !== "undefined" && new URLSearchParams(location.search).get("baseline") === "1";

export const CLIENTS = [
  { name: "raw WebSocket", key: "raw", open: rawOpen },
  { name: "resocket", key: "resocket", open: resocketFrom("/pkg/resocket.js") },
  ...(baseline ? [{ name: "resocket (baseline)", key: "resocket-baseline", open: resocketFrom("/pkg-baseline/resocket.js") }] : []),
  {
    name: "reconnecting-websocket 4.4.0",
    key: "reconnecting-websocket",
    open: socketLike((url, delay) => new ReconnectingWebSocket(url, [], reconnectingOptions(delay))),
  },
  {
    name: "partysocket 1.3.0",
    key: "partysocket",
    open: socketLike((url, delay) => new PartySocket(url, [], reconnectingOptions(delay))),
  },
  { name: "socket.io-client 4.8.1 †", key: "socket.io-client", open: socketIoOpen, otherServer: true },
];
