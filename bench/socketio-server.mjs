// The server socket.io-client needs (it cannot talk to a plain WebSocket
// endpoint): echoes like resocket-server does — an envelope gets the same
// reply shape, numbered; binary comes back as is — and drops a session's
// connection abruptly on `POST /drop?session_id=…` for the reconnect runs.
// Reported in its own column: a different server, so not a like-for-like row.
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  const cors = { "access-control-allow-origin": "*" };
  if (request.method === "POST" && url.pathname === "/drop") {
    let dropped = 0;
    for (const socket of io.of("/").sockets.values()) {
      if (socket.handshake.query.session_id === url.searchParams.get("session_id")) {
        // The underlying ws socket, ended without a close frame.
        socket.conn.transport.socket?.terminate();
        dropped += 1;
      }
    }
    return response.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ dropped }));
  }
  response.writeHead(404, cors).end();
});
const io = new Server(http, { cors: { origin: "*" }, transports: ["websocket"] });
let seq = 0;
io.on("connection", (socket) => {
  socket.on("message", (text) => {
    const envelope = JSON.parse(text);
    const reply = { type: "message", data: envelope.data ?? null, replyTo: envelope.id ?? null, timestamp: new Date().toISOString(), seq: ++seq };
    socket.emit("message", JSON.stringify(reply));
  });
  socket.on("binary", (buffer) => socket.emit("binary", buffer));
});

const portFlag = process.argv.indexOf("--port");
http.listen(portFlag > 0 ? Number(process.argv[portFlag + 1]) : 0, "127.0.0.1", () =>
  console.log(`listening on http://127.0.0.1:${http.address().port}`),
);
process.on("SIGTERM", () => process.exit(0));
