"use client";
// What the matrix test reads: the transport's state, an echo through the
// server and back, and any error, as data attributes on one element. The
// server's address comes from the page's ?server= parameter; ?share=NAME
// shares the connection across tabs (resocket/shared, loaded only then).
import { useEffect, useState } from "react";
import { useMessages, useOutbox, useTransport, useTransportSnapshot } from "resocket/react";

// The hot-reload check rewrites this line while `next dev` runs.
const REVISION = "1";

export function EchoProbe() {
  const [options, setOptions] = useState(null);
  useEffect(() => {
    const query = new URLSearchParams(location.search);
    const share = query.get("share");
    setOptions({
      url: query.get("server") ?? "ws://127.0.0.1:8080/ws",
      delivery: "at-least-once",
      ...(share ? { shareAcrossTabs: share } : {}),
    });
  }, []);
  const { transport, error } = useTransport(options);
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
      data-leader={transport && "isLeader" in transport ? String(transport.isLeader) : ""}
      data-revision={REVISION}
    >
      {error ? `failed: ${error.message}` : `${snapshot?.state ?? "loading"}: ${replies.length} replies`}
    </output>
  );
}
