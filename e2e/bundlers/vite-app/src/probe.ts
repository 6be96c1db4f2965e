// What the matrix test reads: the transport's state, an echo through the
// server and back, and any error, as data attributes on one element. The
// server's address comes from the page's ?server= parameter.
import { createElement as h, useEffect } from "react";
import { useMessages, useOutbox, useTransport, useTransportSnapshot } from "resocket/react";

const server = new URLSearchParams(location.search).get("server") ?? "ws://127.0.0.1:8080/ws";

export function EchoProbe() {
  const { transport, error } = useTransport({ url: server, delivery: "at-least-once" });
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
    },
    error ? `failed: ${error.message}` : `${snapshot?.state ?? "loading"}: ${replies.length} replies`,
  );
}
