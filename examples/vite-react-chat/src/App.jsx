import { useEffect, useState } from "react";
import { useTransport } from "resocket/react";
import { transportOptions, useChatStore } from "./chatStore.js";
import { ConnectionStatus } from "./ConnectionStatus.jsx";

const socketUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;

export function App() {
  const initializeWebSocket = useChatStore((state) => state.initializeWebSocket);
  const sendMessage = useChatStore((state) => state.sendMessage);
  const messages = useChatStore((state) => state.messages);
  // Shown as a data attribute: support (and the e2e tests) can find this
  // chat's entries in the server's log.
  const sessionId = useChatStore((state) => state.transport?.sessionId);
  const [draft, setDraft] = useState("");

  // One transport per mounted chat (StrictMode's rehearsal mount opens no
  // socket), created again only if the options change, freed on unmount.
  const { transport, error } = useTransport(transportOptions(socketUrl()));
  useEffect(() => (transport ? initializeWebSocket(transport) : undefined), [transport, initializeWebSocket]);

  const submit = (event) => {
    event.preventDefault();
    if (draft.trim()) sendMessage(draft.trim());
    setDraft("");
  };

  return (
    <main data-session-id={sessionId}>
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
    </main>
  );
}
