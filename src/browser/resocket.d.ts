// The package's TypeScript declarations (pkg/resocket.d.ts): the class that
// src/browser/transport.js implements, the entry points of resocket.js, and
// every type they use. Written by hand, next to the code; the test command
// type-checks the JavaScript against it and e2e/types/ against the package.

/** The transport's connection state (the seed chat store's four). */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";

/** Why the transport is down: `disconnect()`, too many failed attempts, or a terminal close. */
export type DisconnectReason = "client" | "max-attempts" | "terminal-close";

/**
 * What `send`/`sendRaw` did: on the wire, going out over the HTTP fallback, in
 * the offline queue, or dropped (queue full, "drop-newest").
 */
export type SendResult = "sent" | "http" | "queued" | "dropped";

/** The channel carrying the session: the WebSocket, or the HTTP fallback. */
export type TransportMode = "websocket" | "http";

/**
 * "at-most-once": sent once, lost if the connection dies under it (needs nothing
 * of the server). "at-least-once": kept until the server acknowledges it and
 * re-sent in order after any reconnect or mode switch; the server drops copies
 * (PROTOCOL.md §5).
 */
export type Delivery = "at-most-once" | "at-least-once";

/** What happens to a message sent while the offline queue is full. */
export type QueueOverflow = "drop-oldest" | "drop-newest" | "error";

/** How a socket closed. */
export interface CloseDetails {
  code: number;
  reason: string;
  wasClean: boolean;
}

/**
 * Options for `new WebSocketTransport(options)`. Times are in milliseconds.
 * `url` is required, except for an HTTP-only transport (`enableWebSocket: false`
 * with `httpFallbackUrl`).
 */
export type TransportOptions = CommonTransportOptions &
  (
    | {
        /**
         * The server's WebSocket URL (`ws://` or `wss://`), or a function returning one
         * (or a Promise of one), called before every attempt, e.g. to put a fresh auth
         * token in it. A rejection counts as a failed attempt. `?session_id=…` is added.
         */
        url: string | (() => string | Promise<string>);
      }
    | { url?: undefined; enableWebSocket: false; httpFallbackUrl: string }
  );

/** The options every transport takes (see `TransportOptions`). */
export interface CommonTransportOptions {
  /** Subprotocols offered to the server. Default: none. */
  protocols?: string | string[];
  /** Identifies this client across reconnects. Default: a random UUID. */
  sessionId?: string;
  /** Connect as soon as the transport is created. Default: `true`. */
  autoConnect?: boolean;
  /** First backoff delay. Default: 1000. */
  reconnectInterval?: number;
  /** Largest backoff delay. Default: 30000. */
  maxReconnectInterval?: number;
  /** Delay growth per attempt (attempt n waits up to interval · factor^(n−1)). Default: 2. */
  reconnectBackoffFactor?: number;
  /** Randomised share of each delay, drawn per attempt: 0 none … 1 full jitter. Default: 0.5. */
  reconnectJitter?: number;
  /** Failed attempts in a row before giving up (`Infinity` allowed). Default: 10. */
  maxReconnectAttempts?: number;
  /** An attempt not open by then is abandoned and counted as failed (0: no limit). Default: 5000. */
  connectTimeout?: number;
  /** The attempt counter resets only after staying connected this long. Default: 5000. */
  minUptime?: number;
  /**
   * Time between heartbeat pings (the first goes out on open); 0 disables the
   * heartbeat. Default: 30000.
   */
  heartbeatInterval?: number;
  /**
   * How long a ping waits. Silence, not a missing pong, ends a link: a server
   * that answered pings before and sends nothing for this long after one is
   * closed (4000) and reconnected; one that never answers pings and sends
   * nothing for interval + timeout is closed once, then kept. Default: 10000.
   */
  heartbeatTimeout?: number;
  /** Envelope type of heartbeat pings. Default: "ping". */
  pingType?: string;
  /**
   * Envelope type of heartbeat replies (these are not delivered as messages). Default: "pong".
   * Neither heartbeat type may be one other frames use ("ack", "gap", "welcome", "reset",
   * "message", "error"): that is a RangeError.
   */
  pongType?: string;
  /** Messages kept while not connected. Default: 100. */
  messageQueueSize?: number;
  /** What a full queue does with a new message. Default: "drop-oldest". */
  queueOverflow?: QueueOverflow;
  /**
   * Decides after every close whether to reconnect. Default: yes, except after
   * `disconnect()` and for codes 1008, 4401 and 4403.
   */
  shouldReconnect?: (close: CloseDetails) => boolean;
  /** Delivery guarantee of `send()` envelopes. Default: "at-most-once". */
  delivery?: Delivery;
  /**
   * At-least-once: with messages awaiting acknowledgement, no ack for this long
   * means the channel is dead (close 4000, reconnect, re-send); it also bounds
   * each HTTP fallback POST. 0: acks are awaited forever (a POST still gives
   * up after 30 s). Default: 10000.
   */
  ackTimeout?: number;
  /**
   * The largest message sent, in UTF-8 bytes of the frame (from 1024): a
   * larger one is not queued (`send` answers "dropped", `sendWithAck`
   * rejects, a "dropped" and an "error" event name the size). The smaller
   * of this and a server's announced limit holds. Default: 1048576 (1 MiB).
   */
  maxMessageBytes?: number;
  /**
   * The HTTP fallback's POST endpoint (`http(s)://…` or a path). Envelopes go
   * there as a JSON array when the WebSocket cannot get through. Default: no fallback.
   */
  httpFallbackUrl?: string;
  /** The fallback's Server-Sent Events endpoint for server pushes. Default: none (replies only). */
  httpEventsUrl?: string;
  /** Consecutive WebSocket attempts that never opened before falling back. Default: 3. */
  fallbackAfterAttempts?: number;
  /** false: HTTP only, from the start (needs `httpFallbackUrl`). Default: true. */
  enableWebSocket?: boolean;
  /** While on HTTP, try the WebSocket again this often and move back when it opens (0: never). Default: 30000. */
  upgradeProbeInterval?: number;
}

/** An envelope as sent and received on the wire. */
export interface Envelope<T = unknown> {
  type: string;
  data: T;
  /** Unique per sender: the transport sets it on everything it sends (acks name it). */
  id?: string;
  /** ISO 8601, set by the sender. */
  timestamp?: string;
  /** The frame's number in the server's stream, when the server numbers frames (PROTOCOL.md §4): resume goes by it. */
  seq?: number;
  /** The `id` of the message this one answers, when the server says so (the reference server's replies do). */
  replyTo?: string;
  [field: string]: unknown;
}


/** Heartbeat round trips measured on the client's clock (ms; null before the first). */
export interface LatencyStats {
  readonly last: number | null;
  readonly avg: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** Smoothed variation between consecutive samples (RFC 3550). */
  readonly jitter: number | null;
  readonly samples: number;
}

/** A frame the application sent, as the queue shows it. */
export type QueuedFrame = Envelope | string | ArrayBuffer | ArrayBufferView;

/** Each event's handler argument. */
export interface TransportEvents {
  state: ConnectionState;
  /** The session moved between the WebSocket and the HTTP fallback. */
  mode: TransportMode;
  open: undefined;
  close: CloseDetails;
  /** A parsed envelope, or the raw frame (string or ArrayBuffer) when it is not one. */
  message: Envelope | string | ArrayBuffer;
  latency: LatencyStats;
  /** Before each backoff wait. */
  reconnecting: { readonly attempt: number; readonly delayMs: number };
  /** The offline queue changed; `dropped` lists what an overflow dropped. */
  queue: { readonly length: number; readonly dropped: readonly QueuedFrame[] };
  /**
   * The server's numbered stream started over (e.g. the server restarted): its
   * first frame after a resume was at or below the last one delivered. The
   * frames are delivered; the position continues from `firstSeq`.
   */
  reset: { readonly previousSeq: number; readonly firstSeq: number };
  /**
   * A message was given up undelivered: over `maxMessageBytes`, refused by
   * the server (close 1009), or dropped by a full queue. Its `sendWithAck`
   * promise rejects with `reason`.
   */
  dropped: { readonly message: QueuedFrame; readonly reason: string };
  error: Error;
}

/** What `getSnapshot()` returns: frozen, and the same object until something changes. */
export interface TransportSnapshot {
  readonly state: ConnectionState;
  readonly mode: TransportMode;
  /** The reconnect attempt in progress or next; 0 when none. */
  readonly attempt: number;
  /** The backoff delay chosen for the pending retry, while one is scheduled. */
  readonly nextRetryInMs: number | null;
  readonly latencyMs: number | null;
  readonly latency: LatencyStats;
  readonly queued: number;
  readonly sessionId: string;
  readonly disconnectReason: DisconnectReason | null;
  readonly lastClose: { readonly code: number; readonly reason: string } | null;
  /** The last `seq` of the server's stream delivered (where a resume starts), or null. */
  readonly lastSeq: number | null;
  /**
   * The counters as of this snapshot's making: `sent` and `received` moving
   * is not by itself a change (no re-render per message); the others are.
   * `transport.stats` reads them now.
   */
  readonly stats: TransportStats;
}

/** What the transport counted since it was created. */
export interface TransportStats {
  readonly sent: number;
  readonly received: number;
  readonly reconnects: number;
  readonly dropped: number;
  readonly errors: number;
  /** Times the server's stream was found started over (`"reset"` events). */
  readonly resets: number;
}


/**
 * A WebSocket connection that reconnects, queues while offline, and measures
 * its own latency.
 *
 * ```js
 * const t = new WebSocketTransport({ url: "ws://127.0.0.1:8080/ws" });
 * const off = t.on("message", (envelope) => console.log(envelope));
 * t.send("message", { text: "hi" }); // "sent", or "queued" while offline
 * off();
 * t.free(); // closes the socket, cancels timers, detaches every handler
 * ```
 */
export class WebSocketTransport {
  /**
   * Creates a transport and, unless `autoConnect` is `false`, starts
   * connecting. Throws a `TypeError` or `RangeError` naming the option and
   * the value that is wrong, and an `Error` before `init()`.
   */
  constructor(options: TransportOptions);
  /** Opens the connection if it is down, or retries at once if waiting out a backoff. Does nothing while connecting or connected. */
  connect(): void;
  /** Closes any connection and starts a fresh attempt now, backoff reset. */
  reconnect(): void;
  /**
   * Closes the connection with `code` (default 1000; 1000 or 3000–4999) and
   * `reason` (default "", at most 123 bytes) and stays down until `connect()`
   * or `reconnect()`.
   */
  disconnect(code?: number, reason?: string): void;
  /**
   * Sends `{type, data, id, timestamp}` as one JSON text frame if connected,
   * otherwise queues it. Returns `"sent"`, `"http"` (going out over the HTTP
   * fallback), `"queued"`, or `"dropped"` (queue full under `"drop-newest"`);
   * throws when the queue is full under `"error"`, or when `data` is not
   * JSON-serialisable.
   */
  send(type: string, data: unknown): SendResult;
  /**
   * Sends like `send` and returns a promise that resolves (with the
   * envelope's id) when the server has acknowledged the message. It rejects
   * with an `Error` saying why when the message cannot be delivered: the
   * queue was full (`"error"`, or it was dropped by an overflow), the
   * transport was disconnected, freed or gave up, or `clearQueue()` removed
   * it. Needs `delivery: "at-least-once"`; throws a `TypeError` for a bad
   * `type` or unserialisable `data`.
   */
  sendWithAck(type: string, data: unknown): Promise<string>;
  /** Sends a frame as is (a string as text; an `ArrayBuffer` or typed array as binary), queued like `send` while not connected. */
  sendRaw(data: string | ArrayBuffer | ArrayBufferView): SendResult;
  /** Calls `handler` on every `event`; returns a function that unsubscribes it (safe to call twice, and after `free()`). */
  on<K extends keyof TransportEvents>(event: K, handler: (argument: TransportEvents[K]) => void): () => void;
  /** Calls `handler` with every envelope of this `type`; returns a function that unsubscribes it. */
  onMessage<T = unknown>(type: string, handler: (envelope: Envelope<T>) => void): () => void;
  /** A copy of the queued messages (envelopes as objects, raw frames as given), oldest first. */
  queued(): QueuedFrame[];
  /** Empties the offline queue without sending anything. */
  clearQueue(): void;
  /** The connection state. */
  readonly state: ConnectionState;
  /** The last heartbeat round trip in ms, or `null` before the first. */
  readonly latencyMs: number | null;
  /** How many messages wait in the offline queue. */
  readonly queueLength: number;
  /** The counters now (the snapshot's are as of its last change). */
  readonly stats: TransportStats;
  /** The session id sent as `?session_id=` on every connection attempt. */
  readonly sessionId: string;
  /**
   * `subscribe(listener)` for React's `useSyncExternalStore`: calls `listener`
   * whenever the snapshot changes and returns the unsubscribe function. Works
   * unbound and is the same function on every access.
   */
  readonly subscribe: (listener: () => void) => () => void;
  /**
   * `getSnapshot()` for React's `useSyncExternalStore`: a frozen
   * `TransportSnapshot` that keeps its identity until something changes.
   * Works unbound and is the same function on every access; after `free()`
   * it keeps returning the last snapshot.
   */
  readonly getSnapshot: () => TransportSnapshot;
  /** The current snapshot (what `getSnapshot()` returns). */
  snapshot(): TransportSnapshot;
  /**
   * Closes the socket, cancels timers, detaches every handler and rejects
   * unacknowledged `sendWithAck` promises. Idempotent, and safe inside a
   * listener; every other member throws afterwards.
   */
  free(): void;
  /** `free()`, for `using` declarations. */
  [Symbol.dispose](): void;
}

/**
 * Loads the .wasm (once: the same as `await init()`) and creates a transport,
 * so an application needs no separate `init()` call. Rejects with the loader's
 * error (which URL failed and why) or the constructor's option error.
 */
export function createTransport(options: TransportOptions): Promise<WebSocketTransport>;

/** Where the .wasm can come from: a URL or request, a response, its bytes, or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** The .wasm's exports (the boundary in src/abi/mod.rs). */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
  readonly rs_input: (len: number) => number;
  readonly rs_output: () => number;
  readonly rs_call: (session: number, call: number, a: number, b: number, len: number) => number;
}

/** What `initSync` takes: the .wasm's bytes or a compiled module. */
export type SyncInitInput = BufferSource | WebAssembly.Module;

/** Instantiates the .wasm synchronously (once; later calls return the same exports). */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * Loads and instantiates the .wasm (once; later calls return the same
 * exports). Without an argument it is fetched from beside this module (a
 * `file:` URL is read from disk in Node.js); a failure says which URL and
 * what came back.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
