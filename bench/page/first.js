// Time to the first message after a page load, for one client (?client=KEY):
// from navigation start (performance.now() is measured from it) until the
// server's echo of the first message has arrived. The page downloads only
// that client's code (each is its own chunk), so fetching, compiling and
// instantiating it count, and so does connecting: the cost an app pays
// before its first message, where download size shows. bench.js runs it in
// an iframe per client and round; bench/run.mjs also runs it in Chromium
// with the network throttled.
const params = new URLSearchParams(location.search);
const client = params.get("client");
const ws = `${params.get("ws")}?session_id=${params.get("session")}`;

// The same envelope every client sends in the throughput rows.
const envelope = () => JSON.stringify({ type: "message", data: "first", id: `first-${Date.now()}`, timestamp: new Date().toISOString() });

/** Resolves when `socket` (a WebSocket-like object) echoes one message. */
function echoOnce(socket) {
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => socket.send(envelope()), { once: true });
    socket.addEventListener("message", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`${client}: the socket failed`)), { once: true });
  });
}

const firsts = {
  raw: () => echoOnce(new WebSocket(ws)),
  resocket: async () => {
    const { createTransport } = await import("/pkg/resocket.js");
    const transport = await createTransport({ url: params.get("ws"), sessionId: params.get("session") });
    await new Promise((resolve) => {
      transport.on("message", resolve);
      transport.on("open", () => transport.send("message", "first"));
    });
  },
  "reconnecting-websocket": async () => {
    const { default: ReconnectingWebSocket } = await import("reconnecting-websocket");
    await echoOnce(new ReconnectingWebSocket(ws));
  },
  partysocket: async () => {
    const { default: PartySocket } = await import("partysocket/ws");
    await echoOnce(new PartySocket(ws));
  },
  "socket.io-client": async () => {
    const { io } = await import("socket.io-client");
    const socket = io(params.get("socketIo"), { transports: ["websocket"], query: { session_id: params.get("session") }, forceNew: true });
    await new Promise((resolve) => {
      socket.once("connect", () => socket.emit("message", envelope()));
      socket.once("message", resolve);
    });
  },
};

firsts[client]().then(
  () => {
    const firstMessageMs = performance.now();
    window.firstMessageMs = firstMessageMs;
    parent.postMessage({ client, firstMessageMs }, "*");
  },
  (error) => parent.postMessage({ client, error: String(error?.stack ?? error) }, "*"),
);
