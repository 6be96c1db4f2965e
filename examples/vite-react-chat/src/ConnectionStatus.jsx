import { useChatStore } from "./chatStore.js";

// The seed store's status line: green "Connected (45ms)" ("Connected (HTTP)"
// on the fallback), yellow "Connecting…" / "Reconnecting (attempt 2)…", red
// "Disconnected" with Retry.
export function ConnectionStatus() {
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
