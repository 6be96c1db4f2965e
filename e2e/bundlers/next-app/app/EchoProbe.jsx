"use client";
// What the matrix test reads: the transport's state, an echo through the
// server and back, and any error, as data attributes on one element. The
// server's address comes from the page's ?server= parameter.
import { useEffect, useState } from "react";
import { useMessages, useOutbox, useTransport, useTransportSnapshot } from "resocket/react";

// The hot-reload check rewrites this line while `next dev` runs.
const REVISION = "1";

export function EchoProbe() {
  const [server, setServer] = useState(null);
  useEffect(() => setServer(new URLSearchParams(location.search).get("server") ?? "ws://127.0.0.1:8080/ws"), []);
  const { transport, error } = useTransport(server ? { url: server, delivery: "at-least-once" } : null);
  const snapshot = useTransportSnapshot(transport);
  const replies = useMessages(transport, "message");
  const outbox = useOutbox(transport);
  const connected = snapshot?.state === "connected";
  useEffect(() => {
    if (connected && outbox.messages.length === 0) outbox.send("message", { text: "hello from the bundle" });
  }, [connected, outbox]);
  return (
    <output
      id="probe"
      data-state={snapshot?.state ?? "none"}
      data-session={snapshot?.sessionId ?? ""}
      data-echo={replies.map((reply) => reply.data.text).join("|")}
      data-delivery={outbox.messages.map((message) => message.status).join("|")}
      data-error={error?.message ?? ""}
      data-revision={REVISION}
    >
      {error ? `failed: ${error.message}` : `${snapshot?.state ?? "loading"}: ${replies.length} replies`}
    </output>
  );
}
