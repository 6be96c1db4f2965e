// What the matrix test reads: the transport's state, an echo through the
// server and back, and any error, as data attributes on one element. The
// server's address comes from the page's ?server= parameter; ?share=NAME
// shares the connection across tabs (resocket/shared, loaded only then).
import { createElement as h, useEffect } from "react";
import { useMessages, useOutbox, useTransport, useTransportSnapshot } from "resocket/react";

const query = new URLSearchParams(location.search);
const server = query.get("server") ?? "ws://127.0.0.1:8080/ws";
const share = query.get("share");
const options = { url: server, delivery: "at-least-once" as const, ...(share ? { shareAcrossTabs: share } : {}) };

export function EchoProbe() {
  const { transport, error } = useTransport(options);
  const snapshot = useTransportSnapshot(transport);
  const replies = useMessages<{ text: string }>(transport, "message");
  const outbox = useOutbox<{ text: string }>(transport);
  const connected = snapshot?.state === "connected";
  useEffect(() => {
    if (connected && outbox.messages.length === 0) outbox.send("message", { text: "hello from the bundle" });
  }, [connected, outbox]);
  return h(
    "output",
    {
      id: "probe",
      "data-state": snapshot?.state ?? "none",
      "data-session": snapshot?.sessionId ?? "",
      "data-echo": replies.map((reply) => reply.data.text).join("|"),
      "data-delivery": outbox.messages.map((message) => message.status).join("|"),
      "data-error": error?.message ?? "",
      "data-leader": transport && "isLeader" in transport ? String(transport.isLeader) : "",
    },
    error ? `failed: ${error.message}` : `${snapshot?.state ?? "loading"}: ${replies.length} replies`,
  );
}
