// resocket/react: React hooks over WebSocketTransport. A separate entry of
// the package (`import … from "resocket/react"`), so that `resocket` alone
// never pulls React in; React is a peer dependency.
//
// Built by scripts/build-pkg with tsc into pkg/react.js and pkg/react.d.ts
// (the import of "resocket" becomes "./resocket.js": one module instance).
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import init, { WebSocketTransport } from "resocket";
import type { Envelope, TransportOptions, TransportSnapshot } from "resocket";
import type { SharedTransportOptions } from "resocket/shared";
import { ReplyStreams } from "resocket/streams";
import type { ReplyStream, ReplyStreamsOptions } from "resocket/streams";

export type { ReplyStream, ReplyStreamsOptions } from "resocket/streams";

/** What `useTransport` gives a component. */
export interface TransportState {
  /**
   * The transport, once the .wasm is loaded and it is created; `null` before
   * that, while `options` is `null`, during server rendering, and after a
   * failure. It is freed when the component unmounts or the options change.
   */
  readonly transport: WebSocketTransport | null;
  /**
   * Why there is no transport: the .wasm did not load (the loader's error
   * says which URL and what came back) or an option is wrong (the
   * constructor's `TypeError`/`RangeError`). `null` otherwise.
   */
  readonly error: Error | null;
}

const NO_TRANSPORT: TransportState = Object.freeze({ transport: null, error: null });
const EMPTY_LIST: readonly never[] = Object.freeze([]);

/**
 * Keeps a ref on what the last committed render saw, never on a render React
 * may throw away. A layout effect runs before the passive effects that read
 * it; on the server (no document) nothing reads it, and React 18 warns about
 * layout effects there.
 */
const useCommittedEffect = typeof document === "undefined" ? useEffect : useLayoutEffect;

/**
 * The options a transport is re-created for, as one string: every value but
 * functions (whose latest version is always the one called, see
 * `useTransport`). An absent option and one set to `undefined` are the same
 * (the default); `Infinity` and `NaN` stay apart from `null`. A value JSON
 * cannot spell (a BigInt, a cycle) gets one fixed mark: the constructor then
 * names the option in `error`.
 */
function identityOf(options: TransportOptions): string {
  const record = options as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const name of Object.keys(record).sort()) {
    const value = record[name];
    if (value === undefined) continue;
    let spelled: string;
    if (typeof value === "function") spelled = "function";
    else if (typeof value === "number") spelled = `number ${String(value)}`;
    else {
      try {
        spelled = JSON.stringify(value);
      } catch {
        spelled = "unrepresentable";
      }
    }
    parts.push(`${JSON.stringify(name)}=${spelled}`);
  }
  return parts.join(",");
}

/**
 * Creates a transport for the component, and frees it when the component
 * unmounts: the wasm is loaded on the first call (no `init()` to write), and
 * a failure to load it or a bad option comes back as `error`, never as an
 * unhandled rejection.
 *
 * - The transport is created anew when any option's value changes (a new
 *   `url` string, another `sessionId` …); an options object that is only a
 *   new object with the same values keeps it. Function options (`url` as a
 *   function, `shouldReconnect`) may be new on every render: the transport
 *   always calls the latest one.
 * - `null` options: no transport (e.g. until the user has a token).
 * - `shareAcrossTabs`: the transport comes from `resocket/shared` (loaded
 *   only then), and the tabs of the origin share one connection.
 * - React StrictMode and hot reloading: effects that run twice create one
 *   transport (the rehearsal's creation is cancelled before the .wasm has
 *   loaded), and every transport created is freed.
 *
 * ```tsx
 * const { transport, error } = useTransport({ url: "wss://chat.example.com/ws" });
 * ```
 */
export function useTransport(options: TransportOptions | SharedTransportOptions | null): TransportState {
  const [state, setState] = useState<TransportState>(NO_TRANSPORT);
  // The latest committed options, read by the stable functions handed to the transport.
  const latest = useRef(options);
  useCommittedEffect(() => {
    latest.current = options;
  });
  const identity = options === null ? null : identityOf(options);

  useEffect(() => {
    // This render's options: the ones committed with `identity`.
    const current = options;
    if (current === null) {
      setState(NO_TRANSPORT);
      return;
    }
    // A previous failure no longer applies to these options.
    setState((state) => (state.error ? NO_TRANSPORT : state));
    let cancelled = false;
    let created: WebSocketTransport | null = null;
    // Functions go through the ref: a new closure on each render must not
    // re-create the transport, and the newest one must be the one called.
    const resolved: SharedTransportOptions = { ...current };
    if (typeof current.url === "function") {
      resolved.url = () => {
        const url = latest.current?.url;
        return typeof url === "function" ? url() : (url ?? "");
      };
    }
    if (typeof current.shouldReconnect === "function") {
      resolved.shouldReconnect = (close) => latest.current?.shouldReconnect?.(close) ?? true;
    }
    const share = resolved.shareAcrossTabs;
    // The shared build only for pages that share: the others never load it.
    const loaded: Promise<new (options: SharedTransportOptions) => WebSocketTransport> =
      share !== undefined && share !== false
        ? import("resocket/shared").then(async (shared) => {
            await shared.default();
            return shared.WebSocketTransport;
          })
        : init().then(() => WebSocketTransport);
    loaded.then(
      (Transport) => {
        if (cancelled) return;
        try {
          created = new Transport(resolved);
          setState({ transport: created, error: null });
        } catch (error) {
          setState({ transport: null, error: asError(error) });
        }
      },
      (error: unknown) => {
        if (!cancelled) setState({ transport: null, error: asError(error) });
      },
    );
    return () => {
      cancelled = true;
      if (created) {
        const freed = created;
        freed.free();
        setState((state) => (state.transport === freed ? NO_TRANSPORT : state));
      }
    };
    // Only `identity` decides: a new object with the same values is not a change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [identity]);

  return state;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

interface Store {
  subscribe(listener: () => void): () => void;
  getSnapshot(): TransportSnapshot | null;
}

const EMPTY_STORE: Store = { subscribe: () => () => {}, getSnapshot: () => null };
const stores = new WeakMap<WebSocketTransport, Store>();

/**
 * The transport's `subscribe`/`getSnapshot` pair, taken once: a pair taken
 * before `free()` keeps answering with the last snapshot, where reading the
 * getters after it throws.
 */
function storeOf(transport: WebSocketTransport | null): Store {
  if (transport === null) return EMPTY_STORE;
  let store = stores.get(transport);
  if (!store) {
    try {
      store = { subscribe: transport.subscribe, getSnapshot: transport.getSnapshot };
    } catch {
      store = EMPTY_STORE; // already freed
    }
    stores.set(transport, store);
  }
  return store;
}

/**
 * The transport's snapshot, re-rendering the component when it changes
 * (`useSyncExternalStore` inside): state, mode, attempt, next retry,
 * latency, queue length, session id, last close, stream position and
 * counters. `null` without a transport and during server rendering.
 *
 * ```tsx
 * const snapshot = useTransportSnapshot(transport);
 * if (snapshot?.state === "connected") return <span>Connected ({snapshot.latencyMs ?? "…"}ms)</span>;
 * ```
 */
export function useTransportSnapshot(transport: WebSocketTransport | null): TransportSnapshot | null {
  const store = storeOf(transport);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, EMPTY_STORE.getSnapshot);
}

/**
 * Calls `handler` with every envelope of `type` the transport receives, for
 * as long as the component is mounted. The handler may be a new function on
 * every render (the latest is called); it causes no re-render by itself.
 */
export function useOnMessage<T = unknown>(
  transport: WebSocketTransport | null,
  type: string,
  handler: (envelope: Envelope<T>) => void,
): void {
  const latest = useRef(handler);
  useCommittedEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    if (!transport) return;
    let unsubscribe: () => void;
    try {
      unsubscribe = transport.onMessage<T>(type, (envelope) => latest.current(envelope));
    } catch {
      return; // freed between render and effect: nothing will arrive
    }
    return unsubscribe;
  }, [transport, type]);
}

/** Options of `useMessages`. */
export interface UseMessagesOptions {
  /** The most envelopes kept (the oldest go first). Default: 100. */
  readonly limit?: number;
}

/**
 * The envelopes of `type` received since the component mounted, oldest
 * first, at most `limit` (default 100); the list is a new array on each
 * arrival and starts empty again for another transport or type.
 *
 * ```tsx
 * const messages = useMessages<{ text: string }>(transport, "message");
 * return <ul>{messages.map((m) => <li key={m.id ?? m.seq}>{m.data.text}</li>)}</ul>;
 * ```
 */
export function useMessages<T = unknown>(
  transport: WebSocketTransport | null,
  type: string,
  options: UseMessagesOptions = {},
): readonly Envelope<T>[] {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`resocket: useMessages limit must be a whole number >= 1, got ${String(limit)}`);
  }
  // The list, with the transport and type it was received from: another
  // transport or type starts from an empty list.
  const [received, setReceived] = useState<{
    transport: WebSocketTransport | null;
    type: string;
    list: readonly Envelope<T>[];
  }>({ transport: null, type: "", list: EMPTY_LIST });
  useOnMessage<T>(transport, type, (envelope) =>
    setReceived((previous) => {
      const list = previous.transport === transport && previous.type === type ? previous.list : EMPTY_LIST;
      return { transport, type, list: [...list.slice(Math.max(0, list.length + 1 - limit)), envelope] };
    }),
  );
  return received.transport === transport && received.type === type ? received.list : EMPTY_LIST;
}


/** A message sent through `useOutbox`, with where its delivery stands. */
export interface OutgoingMessage<T = unknown> {
  /** Unique within the component: a React key. */
  readonly key: number;
  readonly type: string;
  readonly data: T;
  /**
   * `"pending"` until the server acknowledges (`"acknowledged"`) or the
   * transport gives up on it (`"failed"`, with `error` saying why: a full
   * queue under `queueOverflow: "error"`, an overflow that dropped it,
   * `disconnect()`, `clearQueue()`, no `delivery: "at-least-once"` …).
   */
  readonly status: "pending" | "acknowledged" | "failed";
  /** The envelope id the server acknowledged, once it has. */
  readonly id: string | null;
  readonly error: Error | null;
}

/** What `useOutbox` gives a component. */
export interface Outbox<T> {
  /** The last `limit` messages sent through `send`, oldest first. */
  readonly messages: readonly OutgoingMessage<T>[];
  /**
   * Sends with `sendWithAck` (the transport needs `delivery: "at-least-once"`);
   * returns the message's key. The same function until the transport changes.
   */
  send(type: string, data: T): number;
}

/**
 * Sends messages and follows each one's delivery, for the bubbles of a chat
 * ("sending…", "✓", "failed"): the transport keeps and re-sends each message
 * until the server acknowledges it, through reconnects and the HTTP fallback.
 * A message never leaves `"pending"` silently: `"failed"` comes with the
 * reason. Without a transport, `send` records the message as failed.
 *
 * ```tsx
 * const outbox = useOutbox<{ text: string }>(transport);
 * outbox.send("message", { text: "hi" });
 * outbox.messages.map((m) => <li key={m.key}>{m.data.text} {m.status === "acknowledged" ? "✓" : "…"}</li>);
 * ```
 */
export function useOutbox<T = unknown>(transport: WebSocketTransport | null, options: UseMessagesOptions = {}): Outbox<T> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`resocket: useOutbox limit must be a whole number >= 1, got ${String(limit)}`);
  }
  const [messages, setMessages] = useState<readonly OutgoingMessage<T>[]>(EMPTY_LIST);
  const nextKey = useRef(0);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const send = useCallback((type: string, data: T): number => {
    const key = ++nextKey.current;
    const settle = (change: Partial<OutgoingMessage<T>>) => {
      if (mounted.current) {
        setMessages((list) => list.map((message) => (message.key === key ? { ...message, ...change } : message)));
      }
    };
    let pending: Promise<string>;
    try {
      if (!transport) throw new Error("resocket: there is no transport yet (useTransport has not created it)");
      pending = transport.sendWithAck(type, data);
    } catch (error) {
      pending = Promise.reject(error);
    }
    setMessages((list) => [
      ...list.slice(Math.max(0, list.length + 1 - limit)),
      { key, type, data, status: "pending", id: null, error: null },
    ]);
    pending.then(
      (id) => settle({ status: "acknowledged", id }),
      (error: unknown) => settle({ status: "failed", error: asError(error) }),
    );
    return key;
  }, [transport, limit]);
  return useMemo(() => ({ messages, send }), [messages, send]);
}

/** A subscribe for no store: nothing ever changes. */
const subscribeToNothing = () => () => {};

/**
 * A `ReplyStreams` on `transport` for as long as the component is mounted
 * (a fresh one, empty, for another transport, type or limit), or `null`.
 */
function useReplyStreamsOf(transport: WebSocketTransport | null, options: ReplyStreamsOptions): ReplyStreams | null {
  const { type, limit } = options;
  const [replies, setReplies] = useState<ReplyStreams | null>(null);
  useEffect(() => {
    if (!transport) return;
    let created: ReplyStreams;
    try {
      created = new ReplyStreams(transport, { type, limit });
    } catch (error) {
      // A bad option is the caller's bug; a plain Error is a transport freed
      // between render and effect: nothing will arrive.
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      return;
    }
    setReplies(created);
    return () => {
      created.dispose();
      setReplies((current) => (current === created ? null : current));
    };
  }, [transport, type, limit]);
  return replies;
}

/**
 * Every reply streamed to the component since it mounted (PROTOCOL.md §8:
 * `{"type":"token","data":{"token","done"},"replyTo"}` frames), each
 * assembled into a growing `text`, the one started first first; re-renders
 * on every piece. A reconnect in the middle of a reply neither loses nor
 * repeats a piece (the transport resumes by `seq`); a reply that lost
 * pieces to a `gap` or a server restart is marked `interrupted`.
 *
 * ```tsx
 * const replies = useReplyStreams(transport);
 * return replies.map((r) => <p key={r.key}>{r.text}{r.done ? "" : "▍"}</p>);
 * ```
 */
export function useReplyStreams(
  transport: WebSocketTransport | null,
  options: ReplyStreamsOptions = {},
): readonly ReplyStream[] {
  const replies = useReplyStreamsOf(transport, options);
  const getSnapshot = useCallback(() => replies?.list() ?? EMPTY_LIST, [replies]);
  return useSyncExternalStore(replies?.subscribe ?? subscribeToNothing, getSnapshot, () => EMPTY_LIST);
}

/**
 * The reply streamed under `key` (its `data.stream`, else the id of the
 * message it answers: what `sendWithAck` resolves with), assembled as it
 * arrives; `null` until its first piece. Pieces that arrive before the key
 * is known (say, before `sendWithAck` resolves) are kept from mount on, so
 * nothing is missed.
 *
 * ```tsx
 * const reply = useReplyStream(transport, requestId);
 * return <p>{reply?.text}{reply?.done ? "" : "▍"}</p>;
 * ```
 */
export function useReplyStream(
  transport: WebSocketTransport | null,
  key: string | null,
  options: ReplyStreamsOptions = {},
): ReplyStream | null {
  const replies = useReplyStreamsOf(transport, options);
  const getSnapshot = useCallback(
    () => (key === null ? null : (replies?.get(key) ?? null)),
    [replies, key],
  );
  return useSyncExternalStore(replies?.subscribe ?? subscribeToNothing, getSnapshot, () => null);
}
