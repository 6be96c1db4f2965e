// The chat store, in the seed store's shape: state `transport`, `useWebSocket`,
// `latency`, `connectionStatus`, `messages`; actions `initializeWebSocket`,
// `sendMessage`, `reconnectWebSocket`, `disconnectWebSocket`. Importing
// resocket is safe during server rendering; only init() needs a browser, and
// it runs in an effect.
import init, { WebSocketTransport } from "resocket";
import { create } from "zustand";

let nextId = 0;

// The seed's kill switch: "false" sends everything over HTTP from the start.
const ENABLE_WEBSOCKET = process.env.NEXT_PUBLIC_ENABLE_WEBSOCKET !== "false";

export const useChatStore = create((set, get) => ({
  transport: null,
  // true while the session runs over the WebSocket, false on the HTTP fallback.
  useWebSocket: ENABLE_WEBSOCKET,
  latency: null,
  connectionStatus: "connecting",
  attempt: 0,
  messages: [],

  // Creates the transport and mirrors its snapshot into the store; returns the
  // function that frees it. `signal` lets an effect cancel before the socket
  // exists (StrictMode's rehearsal mount), so there is never a second socket.
  async initializeWebSocket(url, signal) {
    await init();
    if (signal?.aborted) return () => {};
    // The HTTP fallback lives beside the socket on the same server (PROTOCOL.md §6).
    const httpBase = url.replace(/^ws/, "http").replace(/\/ws$/, "");
    const transport = new WebSocketTransport({
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
    });
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
      transport.free();
      set({ transport: null, connectionStatus: "disconnected", latency: null });
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
