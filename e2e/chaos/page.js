// The browser side of scripts/chaos: one transport configured the way an app
// that must not lose messages would be (at-least-once, HTTP fallback, fast
// backoff), a sender at a steady rate, and a record of everything that
// arrived. run.mjs starts it with window.chaos.start(config) and reads
// window.chaos.report() while it runs and at the end.
import init, { WebSocketTransport } from "/pkg/resocket.js";

const record = {
  sent: 0,
  acked: 0,
  rejected: [], // [n, reason] for every sendWithAck that gave up
  notSent: [], // [n, reason] for every send() that threw
  pushes: [], // data.n of every "push", in arrival order
  seqs: [], // seq of every numbered envelope delivered, in arrival order
  echoes: 0,
  echoed: [], // data.n of every echo reply, in arrival order (each message handled once: once each)
  modes: [], // every "mode" event
  closes: 0,
  errors: [],
  sendingDone: false,
};
let transport;

function start({ messages, rate, sessionId, delivery }) {
  const origin = location.origin;
  transport = new WebSocketTransport({
    url: `${origin.replace(/^http/, "ws")}/ws`,
    sessionId,
    delivery,
    ackTimeout: 3000,
    httpFallbackUrl: `${origin}/messages`,
    httpEventsUrl: `${origin}/events`,
    fallbackAfterAttempts: 2,
    upgradeProbeInterval: 1500,
    reconnectInterval: 100,
    maxReconnectInterval: 1000,
    maxReconnectAttempts: Infinity,
    connectTimeout: 2000,
    heartbeatInterval: 2000,
    heartbeatTimeout: 2000,
    // Room for everything: a lost message must show up as lost, not as overflow.
    messageQueueSize: messages + 1,
    queueOverflow: "error",
  });
  transport.on("message", (envelope) => {
    if (typeof envelope !== "object" || envelope === null || envelope instanceof ArrayBuffer) return;
    if (Number.isInteger(envelope.seq)) record.seqs.push(envelope.seq);
    if (envelope.type === "push") record.pushes.push(envelope.data.n);
    else if (envelope.type === "message" && envelope.replyTo) {
      record.echoes += 1;
      record.echoed.push(envelope.data?.n);
    }
  });
  transport.on("mode", (mode) => record.modes.push(mode));
  transport.on("close", () => (record.closes += 1));
  transport.on("error", (error) => record.errors.length < 20 && record.errors.push(String(error.message ?? error)));

  // A steady rate: each tick sends whatever the clock says is due, so a
  // stalled tick catches up instead of stretching the run.
  const startedAt = performance.now();
  const tick = setInterval(() => {
    const due = Math.min(messages, Math.floor(((performance.now() - startedAt) / 1000) * rate));
    while (record.sent < due) {
      const n = record.sent++;
      try {
        if (delivery === "at-least-once") {
          transport.sendWithAck("message", { n }).then(
            () => (record.acked += 1),
            (error) => record.rejected.push([n, String(error.message ?? error)]),
          );
        } else {
          transport.send("message", { n });
          record.acked += 1; // nothing to wait for
        }
      } catch (error) {
        record.notSent.push([n, String(error.message ?? error)]);
      }
    }
    if (record.sent === messages) {
      clearInterval(tick);
      record.sendingDone = true;
    }
  }, 10);
}

// Plain data for page.evaluate; `full` adds the arrival lists (big) for the end.
function report(full = false) {
  const snapshot = transport?.getSnapshot();
  return {
    sent: record.sent,
    acked: record.acked,
    rejected: record.rejected,
    notSent: record.notSent,
    pushCount: record.pushes.length,
    echoes: record.echoes,
    modes: record.modes,
    closes: record.closes,
    errors: record.errors,
    sendingDone: record.sendingDone,
    state: snapshot?.state,
    mode: snapshot?.mode,
    queued: snapshot?.queued,
    ...(full ? { pushes: record.pushes, seqs: record.seqs, echoed: record.echoed } : {}),
  };
}

await init();
window.chaos = { start, report };
