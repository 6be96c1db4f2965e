// The resocket demo: one transport to the server that served this page. The
// status card renders from subscribe/getSnapshot; the fault buttons call the
// server's per-session fault injection (/control/…), so only this tab suffers.
import init, { WebSocketTransport } from "/pkg/resocket.js";
import { ReplyStreams } from "/pkg/streams.js";

const $ = (id) => document.getElementById(id);
const SPARK_POINTS = 60;

function logEvent(kind, detail = "") {
  const item = document.createElement("li");
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const name = document.createElement("span");
  name.className = "kind";
  name.textContent = kind;
  const text = document.createElement("span");
  text.textContent = detail;
  item.append(time, name, text);
  $("events").prepend(item);
  while ($("events").children.length > 200) $("events").lastElementChild.remove();
}

function addBubble(text, className, note) {
  $("messages").querySelector(".empty")?.remove();
  const item = document.createElement("li");
  if (className) item.className = className;
  item.textContent = text;
  if (note !== undefined) {
    const small = document.createElement("small");
    small.textContent = note;
    item.append(small);
  }
  $("messages").append(item);
  $("messages").scrollTop = $("messages").scrollHeight;
  return item;
}

function drawSparkline(samples) {
  if (samples.length === 0) return;
  const max = Math.max(...samples, 1) * 1.15;
  const step = 240 / Math.max(samples.length - 1, 1);
  $("spark").setAttribute(
    "points",
    samples.map((ms, i) => `${(i * step).toFixed(1)},${(56 - (ms / max) * 52 - 2).toFixed(1)}`).join(" "),
  );
}

function renderBadge(snapshot, transport) {
  const badge = $("badge");
  badge.dataset.state = snapshot.state;
  badge.replaceChildren();
  if (snapshot.state === "connected" && snapshot.mode === "http") {
    // No heartbeat runs over HTTP, so there is no live latency to show.
    badge.append("Connected over HTTP");
  } else if (snapshot.state === "connected") {
    badge.append(`Connected (${snapshot.latencyMs === null ? "…" : Math.round(snapshot.latencyMs)}ms)`);
  } else if (snapshot.state === "connecting") {
    badge.append("Connecting…");
  } else if (snapshot.state === "reconnecting") {
    badge.append(`Reconnecting (attempt ${Math.max(snapshot.attempt, 1)})…`);
  } else {
    badge.append("Disconnected");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Retry";
    retry.onclick = () => transport.connect();
    badge.append(retry);
  }
}

function render(snapshot, transport) {
  renderBadge(snapshot, transport);
  // Over HTTP no heartbeat runs: an old figure would be a stale claim.
  const live = snapshot.mode === "websocket" && snapshot.latencyMs !== null;
  $("latency").textContent = live ? `${Math.round(snapshot.latencyMs)} ms` : "–";
  $("mode").textContent = snapshot.mode === "http" ? "HTTP" : "WebSocket";
  $("queued").textContent = snapshot.queued;
  $("attempt").textContent = snapshot.attempt;
  $("retry").textContent = snapshot.nextRetryInMs === null ? "–" : `${Math.round(snapshot.nextRetryInMs)} ms`;
  renderCounters(transport.stats);
}

// The counters move with every message, which by design notifies no
// snapshot subscriber: they are read fresh (`transport.stats`) on each
// change and on each message.
function renderCounters(stats) {
  $("sent").textContent = stats.sent;
  $("received").textContent = stats.received;
  $("reconnects").textContent = stats.reconnects;
  $("dropped").textContent = stats.dropped;
}

function describeSend(snapshot) {
  if (snapshot.state !== "connected") return "queued";
  return snapshot.mode === "http" ? "sent over HTTP" : "sent";
}

async function control(path) {
  const response = await fetch(path, { method: "POST" });
  if (!response.ok) logEvent("control", `${path} failed: HTTP ${response.status}`);
}

// A toggle button: `on()` when pressed, `off()` when released.
function toggle(button, on, off) {
  button.onclick = async () => {
    const pressed = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(pressed));
    await (pressed ? on() : off());
  };
}

async function main() {
  await init();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const transport = new WebSocketTransport({
    url: `${scheme}://${location.host}/ws`,
    // Nothing typed here is lost: each message is kept until the server
    // acknowledges it, and when WebSockets cannot get through (two refused
    // attempts) the session carries on over POST + Server-Sent Events, trying
    // the WebSocket again every 3 s.
    delivery: "at-least-once",
    httpFallbackUrl: "/messages",
    httpEventsUrl: "/events",
    fallbackAfterAttempts: 2,
    upgradeProbeInterval: 3000,
    reconnectInterval: 500,
    maxReconnectInterval: 4000,
    maxReconnectAttempts: Infinity,
    heartbeatInterval: 1500,
    heartbeatTimeout: 2500,
    minUptime: 2000,
  });
  const session = encodeURIComponent(transport.sessionId);
  $("session").textContent = transport.sessionId;
  addBubble("No messages yet — say hello.", "empty");

  // The status card follows the snapshot, exactly as a React store would.
  const paint = () => render(transport.getSnapshot(), transport);
  transport.subscribe(paint);
  paint();
  transport.on("message", () => renderCounters(transport.stats));

  const samples = [];
  transport.on("latency", ({ last }) => {
    samples.push(last);
    if (samples.length > SPARK_POINTS) samples.shift();
    drawSparkline(samples);
  });
  transport.on("state", (state) => logEvent("state", state));
  transport.on("mode", (mode) => logEvent("mode", mode === "http" ? "HTTP fallback (POST + event stream)" : "back on the WebSocket"));
  transport.on("close", ({ code, reason }) => logEvent("close", `${code}${reason ? ` ${reason}` : ""}`));
  transport.on("reconnecting", ({ attempt, delayMs }) =>
    logEvent("reconnecting", `attempt ${attempt} in ${Math.round(delayMs)} ms`));
  transport.on("queue", ({ length, dropped }) =>
    logEvent("queue", `${length} waiting${dropped.length ? `, ${dropped.length} dropped` : ""}`));
  transport.on("error", (error) => logEvent("error", error.message));

  // Outgoing bubbles wait for their echo; a nonce in the data pairs them.
  const pending = new Map();
  let nonce = 0;
  transport.onMessage("message", (envelope) => {
    const { text, nonce: id, sentAt } = envelope.data ?? {};
    const bubble = pending.get(id);
    if (bubble) {
      bubble.classList.remove("pending");
      bubble.querySelector("small").textContent = "delivered";
      pending.delete(id);
    }
    const rtt = typeof sentAt === "number" ? ` · ${Math.round(performance.now() - sentAt)} ms` : "";
    addBubble(text, "echo", `echo${rtt}`);
  });
  $("composer").onsubmit = (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    const id = ++nonce;
    // Sent over whichever channel is up, or queued; the note turns to
    // "acknowledged" when the server confirms it has the message.
    const bubble = addBubble(text, "pending", describeSend(transport.getSnapshot()));
    pending.set(id, bubble);
    $("text").value = "";
    transport.sendWithAck("message", { text, nonce: id, sentAt: performance.now() }).then(
      () => {
        bubble.classList.add("acked");
        const note = bubble.querySelector("small");
        if (note.textContent !== "delivered") note.textContent = "acknowledged";
      },
      (error) => {
        bubble.classList.add("failed");
        bubble.querySelector("small").textContent = `not delivered: ${error.message}`;
      },
    );
    renderCounters(transport.stats);
  };

  // "Stream a reply": the server sends a sentence word by word (PROTOCOL.md
  // §8); ReplyStreams joins the words per reply, each bubble grows with it.
  const replies = new ReplyStreams(transport);
  const streamed = new Map();
  let streams = 0;
  replies.onUpdate((reply) => {
    let bubble = streamed.get(reply.key);
    if (!bubble) {
      bubble = addBubble("…", "echo", "");
      streamed.set(reply.key, bubble);
    }
    // The bubble's first child is its text node (addBubble), then the note.
    bubble.firstChild.textContent = reply.done ? reply.text : `${reply.text}▍`;
    const words = `${reply.tokens} piece${reply.tokens === 1 ? "" : "s"}`;
    bubble.querySelector("small").textContent = reply.interrupted
      ? `${words} · interrupted: the server no longer had every word`
      : reply.done ? `streamed · ${words}` : `streaming… ${words}`;
    if (reply.done) streamed.delete(reply.key);
    $("messages").scrollTop = $("messages").scrollHeight;
  });
  $("stream").onclick = () => {
    transport.sendWithAck("stream", { stream: `reply-${++streams}`, intervalMs: 120 }).catch((error) =>
      addBubble("The stream request was not delivered", "failed", error.message));
  };

  $("drop").onclick = () => control(`/control/${session}/drop`);
  $("down").onclick = () => control("/control/down?ms=5000");
  toggle($("slow"), () => control(`/control/${session}/delay-pongs?ms=300`), () => control(`/control/${session}/delay-pongs?ms=0`));
  toggle(
    $("block"),
    async () => {
      await control(`/control/${session}/refuse?ms=3600000`);
      await control(`/control/${session}/drop`);
    },
    () => control(`/control/${session}/refuse?ms=0`),
  );
  // "Offline" in the page: the browser's offline event, and the server cuts and
  // refuses this session until the page comes back.
  toggle(
    $("offline"),
    async () => {
      dispatchEvent(new Event("offline"));
      await control(`/control/${session}/refuse?ms=3600000`);
      await control(`/control/${session}/drop`);
    },
    async () => {
      await control(`/control/${session}/refuse?ms=0`);
      dispatchEvent(new Event("online"));
    },
  );
  $("reconnect").onclick = () => transport.reconnect();
  $("disconnect").onclick = () => transport.disconnect(1000, "user pressed disconnect");

  // Leaving for good: close cleanly (bfcache is handled by the transport).
  addEventListener("pagehide", (event) => { if (!event.persisted) transport.free(); });
}

main().catch((error) => {
  $("badge").dataset.state = "error";
  $("badge").textContent = `Failed to start: ${error.message}`;
});
