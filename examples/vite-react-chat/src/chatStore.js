// The chat store, in the seed store's shape: state `transport`, `useWebSocket`,
// `latency`, `connectionStatus`, `messages`; actions `initializeWebSocket`,
// `sendMessage`, `reconnectWebSocket`, `disconnectWebSocket`. The transport
// itself comes from resocket/react's useTransport (created in the browser,
// one per mounted chat, freed on unmount); `initializeWebSocket(transport)`
// mirrors it into the store.
import { create } from "zustand";

let nextId = 0;

// The seed's kill switch: "false" sends everything over HTTP from the start.
const ENABLE_WEBSOCKET = import.meta.env.VITE_ENABLE_WEBSOCKET !== "false";

// The transport's options for a socket URL: the HTTP fallback lives beside
// the socket on the same server (PROTOCOL.md §6), and the session moves to it
// after two attempts in a row that cannot get through.
export function transportOptions(url) {
  const httpBase = url.replace(/^ws/, "http").replace(/\/ws$/, "");
  return {
    url,
    enableWebSocket: ENABLE_WEBSOCKET,
    httpFallbackUrl: `${httpBase}/messages`,
    httpEventsUrl: `${httpBase}/events`,
    fallbackAfterAttempts: 2,
    upgradeProbeInterval: 10000,
    reconnectInterval: 500,
    maxReconnectInterval: 5000,
    maxReconnectAttempts: Infinity,
    heartbeatInterval: 2000,
    heartbeatTimeout: 3000,
  };
}

export const useChatStore = create((set, get) => ({
  transport: null,
  // true while the session runs over the WebSocket, false on the HTTP fallback.
  useWebSocket: ENABLE_WEBSOCKET,
  latency: null,
  connectionStatus: "connecting",
  attempt: 0,
  messages: [],

  // Mirrors a transport's snapshot and the server's messages into the store
  // until the returned function detaches it (useTransport frees the
  // transport itself).
  initializeWebSocket(transport) {
    const sync = () => {
      const snapshot = transport.getSnapshot();
      set({
        connectionStatus: snapshot.state,
        latency: snapshot.latencyMs,
        attempt: snapshot.attempt,
        useWebSocket: snapshot.mode === "websocket",
      });
    };
    const unsubscribe = transport.subscribe(sync);
    const offMessages = transport.onMessage("message", (envelope) => {
      set((state) => ({
        messages: [...state.messages, { id: `in-${++nextId}`, text: envelope.data?.text ?? "", from: "server" }],
      }));
    });
    set({ transport });
    sync();
    return () => {
      offMessages();
      unsubscribe();
      set({ transport: null, connectionStatus: "connecting", latency: null });
    };
  },

  // WebSocket first: sent at once when connected ("sent"); POSTed when the
  // session is on the HTTP fallback ("http"); otherwise kept in the
  // transport's offline queue and sent, in order, when either comes up ("queued").
  sendMessage(content) {
    const { transport } = get();
    if (!transport) return "unavailable";
    const result = transport.send("message", { text: content });
    set((state) => ({ messages: [...state.messages, { id: `out-${++nextId}`, text: content, from: "me", result }] }));
    return result;
  },

  reconnectWebSocket() {
    get().transport?.reconnect();
  },

  disconnectWebSocket() {
    get().transport?.disconnect(1000, "user disconnected");
  },
}));
