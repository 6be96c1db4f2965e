import { useEffect, useState } from "react";
import { useChatStore } from "./chatStore.js";
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

  // One transport per mounted chat; freed on unmount (and on StrictMode's
  // rehearsal unmount, before any socket was opened).
  useEffect(() => {
    const abort = new AbortController();
    const disposed = initializeWebSocket(socketUrl(), abort.signal).catch((error) => {
      console.error("resocket failed to start", error);
      return () => {};
    });
    return () => {
      abort.abort();
      disposed.then((dispose) => dispose());
    };
  }, [initializeWebSocket]);

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
