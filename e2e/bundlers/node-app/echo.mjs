// The Node.js leg of the matrix (e2e/bundlers.test.mjs): the installed
// package with `init()` and no argument, its WebSocket from Node itself (22+,
// or 20 with --experimental-websocket). Prints one JSON line and exits: the
// process ends by itself once the transport is freed.
import init, { WebSocketTransport } from "resocket";

const [url] = process.argv.slice(2);
await init();
const transport = new WebSocketTransport({ url, delivery: "at-least-once" });
const errors = [];
transport.on("error", (error) => errors.push(error.message));
const echo = new Promise((resolve) => transport.onMessage("message", resolve));
const id = await transport.sendWithAck("message", { text: `hello from node ${process.versions.node}` });
const reply = await echo;
// The first ping went out on open; its pong may come after the echo.
if (transport.latencyMs === null) await new Promise((resolve) => transport.on("latency", resolve));
console.log(
  JSON.stringify({ node: process.versions.node, state: transport.state, id, reply, errors, latencyMs: transport.latencyMs }),
);
transport.free();
