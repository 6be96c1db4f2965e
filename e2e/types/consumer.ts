// Compiled with `tsc --noEmit --strict` against the built pkg/: what a
// TypeScript app gets from the package with no extra step. Each line marked
// with an expect-error directive must fail to type-check, or tsc reports it.
import init, {
  WebSocketTransport,
  type ConnectionState,
  type Envelope,
  type TransportOptions,
  type TransportSnapshot,
} from "resocket";
import { ReplyStreams, type ReplyStream } from "resocket/streams";
import initShared, { WebSocketTransport as SharedTransport, createTransport as createShared, type SharedTransportOptions } from "resocket/shared";

export async function typed(): Promise<void> {
  await init();
  const options: TransportOptions = {
    url: () => Promise.resolve("ws://127.0.0.1:8080/ws?token=t"),
    reconnectJitter: 1,
    maxReconnectAttempts: Infinity,
    queueOverflow: "drop-newest",
    shouldReconnect: (close) => close.code !== 4401,
  };
  const transport = new WebSocketTransport(options);

  const offState = transport.on("state", (state) => {
    const exact: ConnectionState = state;
    void exact;
  });
  transport.on("reconnecting", ({ attempt, delayMs }) => void (attempt + delayMs));
  transport.on("latency", (latency) => void (latency.last ?? latency.samples));
  transport.on("queue", ({ length, dropped }) => void (length + dropped.length));
  transport.onMessage<{ text: string }>("message", (envelope: Envelope<{ text: string }>) => void envelope.data.text);
  const result: "sent" | "http" | "queued" | "dropped" = transport.send("message", { text: "hi" });
  void result;
  const acked: Promise<string> = transport.sendWithAck("message", { text: "hi" });
  void acked;
  transport.on("mode", (mode) => {
    const exact: "websocket" | "http" = mode;
    void exact;
  });
  const httpOnly = new WebSocketTransport({ enableWebSocket: false, httpFallbackUrl: "/messages", delivery: "at-least-once" });
  httpOnly.free();
  transport.disconnect();
  transport.disconnect(4000, "bye");

  const snapshot: TransportSnapshot = transport.getSnapshot();
  const latency: number | null = snapshot.latencyMs;
  const reason: "client" | "max-attempts" | "terminal-close" | null = snapshot.disconnectReason;
  const mode: "websocket" | "http" = snapshot.mode;
  void mode;
  void latency;
  void reason;
  const subscribe: (listener: () => void) => () => void = transport.subscribe;
  void subscribe;
  offState();

  // @ts-expect-error: not an event
  transport.on("bogus", () => {});
  // @ts-expect-error: a state handler gets a string, not a number
  transport.on("state", (state: number) => state);
  // @ts-expect-error: not an overflow policy
  new WebSocketTransport({ url: "ws://h/", queueOverflow: "drop" });
  // @ts-expect-error: url is required
  new WebSocketTransport({ reconnectInterval: 10 });
  // @ts-expect-error: HTTP only needs the fallback URL
  new WebSocketTransport({ enableWebSocket: false });
  // @ts-expect-error: not a delivery guarantee
  new WebSocketTransport({ url: "ws://h/", delivery: "exactly-once" });
  // @ts-expect-error: the snapshot is read-only
  snapshot.state = "connected";
  transport.free();
}

export function streamed(transport: WebSocketTransport): () => void {
  const replies = new ReplyStreams(transport, { type: "token", limit: 10 });
  const off = replies.onUpdate((reply: ReplyStream) => void (reply.text.length + reply.tokens));
  const first: ReplyStream | undefined = replies.list()[0];
  void (first?.done && first.interrupted && first.replyTo?.length);
  // @ts-expect-error a reply is read-only
  if (first) first.text = "";
  // @ts-expect-error the type is a string
  void new ReplyStreams(transport, { type: 1 });
  return () => {
    off();
    replies.dispose();
  };
}

export async function shared(): Promise<boolean> {
  await initShared();
  const options: SharedTransportOptions = { url: "ws://h/ws", delivery: "at-least-once", shareAcrossTabs: "chat" };
  const transport = new SharedTransport(options);
  // The same API: a shared transport goes wherever a transport does.
  const plain: WebSocketTransport = transport;
  const other = await createShared({ url: "ws://h/ws", shareAcrossTabs: true });
  // @ts-expect-error a name or a boolean
  void new SharedTransport({ url: "ws://h/ws", shareAcrossTabs: 1 });
  // @ts-expect-error read-only
  transport.isLeader = false;
  void streamed(plain);
  return transport.isLeader && other.isLeader;
}
