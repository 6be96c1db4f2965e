"use client";

import { useEffect, useState } from "react";
import { useTransport } from "resocket/react";
import { transportOptions, useChatStore } from "./chatStore.js";

// The seed store's status line: green "Connected (45ms)" ("Connected (HTTP)"
// on the fallback), yellow "Connecting…" / "Reconnecting (attempt 2)…", red
// "Disconnected" with Retry.
function ConnectionStatus() {
  const status = useChatStore((state) => state.connectionStatus);
  const latency = useChatStore((state) => state.latency);
  const useWebSocket = useChatStore((state) => state.useWebSocket);
  const attempt = useChatStore((state) => state.attempt);
  const reconnect = useChatStore((state) => state.reconnectWebSocket);
  if (status === "connected") {
    return (
      <p className="status green" role="status">
        {/* No heartbeat runs over the HTTP fallback, so no latency either. */}
        {useWebSocket ? `Connected (${latency === null ? "…" : Math.round(latency)}ms)` : "Connected (HTTP)"}
      </p>
    );
  }
  if (status === "connecting" || status === "reconnecting") {
    return (
      <p className="status yellow" role="status">
        {status === "connecting" ? "Connecting…" : `Reconnecting (attempt ${Math.max(attempt, 1)})…`}
      </p>
    );
  }
  return (
    <p className="status red" role="status">
      Disconnected <button onClick={reconnect}>Retry</button>
    </p>
  );
}

export function Chat({ socketUrl }) {
  const initializeWebSocket = useChatStore((state) => state.initializeWebSocket);
  const sendMessage = useChatStore((state) => state.sendMessage);
  const messages = useChatStore((state) => state.messages);
  // Shown as a data attribute: support (and the e2e tests) can find this
  // chat's entries in the server's log.
  const sessionId = useChatStore((state) => state.transport?.sessionId);
  const [draft, setDraft] = useState("");

  // One transport per mounted chat (StrictMode's rehearsal mount opens no
  // socket), created again only if the options change, freed on unmount.
  const { transport, error } = useTransport(transportOptions(socketUrl));
  useEffect(() => (transport ? initializeWebSocket(transport) : undefined), [transport, initializeWebSocket]);

  const submit = (event) => {
    event.preventDefault();
    if (draft.trim()) sendMessage(draft.trim());
    setDraft("");
  };

  return (
    <section data-session-id={sessionId}>
      <header>
        <h1>Chat</h1>
        <ConnectionStatus />
      </header>
      {/* The .wasm did not load, or an option is wrong: the message says which. */}
      {error && <p role="alert">resocket could not start: {error.message}</p>}
      <ul className="messages">
        {messages.map((message) => (
          <li key={message.id} className={message.from}>
            {message.text}
            {message.result === "queued" && <small> (queued)</small>}
            {message.result === "http" && <small> (via HTTP)</small>}
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <input aria-label="Message" value={draft} onChange={(event) => setDraft(event.target.value)} />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}
