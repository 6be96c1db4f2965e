// The demo: one transport to the server that served this page, its state, and
// the round trip of every message the server echoes back.
import init, { WebSocketTransport } from "/pkg/resocket.js";

const $ = (id) => document.getElementById(id);
const stateBadge = $("state");
const log = $("log");

function showState(state) {
  stateBadge.textContent = state;
  stateBadge.dataset.state = state;
}

function append(text, meta, className) {
  const item = document.createElement("li");
  if (className) item.className = className;
  const body = document.createElement("span");
  body.textContent = text;
  const side = document.createElement("span");
  side.className = "meta";
  side.textContent = meta ?? new Date().toLocaleTimeString();
  item.append(body, side);
  log.append(item);
  while (log.children.length > 200) log.firstElementChild.remove();
}

async function main() {
  await init();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const transport = new WebSocketTransport({ url: `${scheme}://${location.host}/ws` });
  $("session").textContent = transport.sessionId;
  showState(transport.state);

  const send = (text) => transport.send("message", { text, sentAt: performance.now() });

  transport.on("state", (state) => {
    showState(state);
    append(`state → ${state}`, undefined, "event");
  });
  transport.on("open", () => send("hello from resocket"));
  transport.on("close", ({ code, reason }) =>
    append(`closed (${code}${reason ? `: ${reason}` : ""})`, undefined, "event"));
  transport.on("error", (error) => append(error.message, undefined, "event"));
  transport.on("message", (message) => {
    if (message?.type !== "message" || typeof message.data?.sentAt !== "number") return;
    const rtt = performance.now() - message.data.sentAt;
    $("rtt").textContent = `${rtt.toFixed(1)} ms`;
    append(message.data.text, `echo in ${rtt.toFixed(1)} ms`);
  });

  $("connect").onclick = () => transport.connect();
  $("disconnect").onclick = () => transport.disconnect(1000, "user pressed disconnect");
  $("drop").onclick = () =>
    fetch(`/control/${encodeURIComponent(transport.sessionId)}/drop`, { method: "POST" });
  $("composer").onsubmit = (event) => {
    event.preventDefault();
    const input = $("text");
    try {
      send(input.value);
      input.value = "";
    } catch (error) {
      append(error.message, undefined, "event");
    }
  };
  // Free the socket when the page goes away for good.
  addEventListener("pagehide", (event) => { if (!event.persisted) transport.free(); });
}

main().catch((error) => {
  showState("error");
  append(`failed to start: ${error.message}`, undefined, "event");
});
