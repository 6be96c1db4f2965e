// The JavaScript half of the browser driver. Each function does one job in a
// single call across the JS↔wasm boundary: building or reading JS objects here
// is smaller and faster than doing it key by key from Rust. Nothing here decides
// anything; the Rust core does.

const NUMBER_OPTIONS = [
  "reconnectInterval",
  "maxReconnectInterval",
  "reconnectBackoffFactor",
  "reconnectJitter",
  "maxReconnectAttempts",
  "connectTimeout",
  "minUptime",
  "heartbeatInterval",
  "heartbeatTimeout",
  "messageQueueSize",
  "fallbackAfterAttempts",
  "upgradeProbeInterval",
  "ackTimeout",
];
const STRING_OPTIONS = [
  "sessionId",
  "queueOverflow",
  "pingType",
  "pongType",
  "httpFallbackUrl",
  "httpEventsUrl",
  "delivery",
];

// How JavaScript itself would print a value, strings quoted.
export function describe(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

// `TypeError`/`RangeError` with "resocket: <field> <rule>, got <value>".
export function optionError(isTypeError, message, value) {
  const text = `${message}, got ${describe(value)}`;
  return isTypeError ? new TypeError(text) : new RangeError(text);
}

function typeError(field, rule, value) {
  return optionError(true, `resocket: ${field} ${rule}`, value);
}

function optional(options, name, type) {
  const value = options[name];
  if (value !== undefined && typeof value !== type) throw typeError(name, `must be a ${type}`, value);
  return value;
}

// Type-checks the constructor's options. Returns, in this order: the URL string
// (or undefined), the URL function (or undefined), the protocol list, autoConnect,
// shouldReconnect, enableWebSocket, the NUMBER_OPTIONS, then the
// STRING_OPTIONS (undefined where absent). Value rules are the core's.
export function readOptions(options) {
  if (options === null || typeof options !== "object") {
    throw typeError("options", 'must be an object such as { url: "ws://…" }', options);
  }
  const url = options.url;
  const enableWebSocket = optional(options, "enableWebSocket", "boolean");
  // HTTP-only transports (the seed's kill switch) need no WebSocket URL.
  if (typeof url !== "string" && typeof url !== "function" && !(url === undefined && enableWebSocket === false)) {
    throw typeError("url", "is required: a string, or a function returning a string or a Promise of one", url);
  }
  let protocols = options.protocols ?? [];
  if (typeof protocols === "string") protocols = [protocols];
  if (!Array.isArray(protocols) || protocols.some((p) => typeof p !== "string")) {
    throw typeError("protocols", "must be a string or an array of strings", options.protocols);
  }
  return [
    typeof url === "string" ? url : undefined,
    typeof url === "function" ? url : undefined,
    protocols,
    optional(options, "autoConnect", "boolean") ?? true,
    optional(options, "shouldReconnect", "function"),
    enableWebSocket,
    ...NUMBER_OPTIONS.map((name) => optional(options, name, "number")),
    ...STRING_OPTIONS.map((name) => optional(options, name, "string")),
  ];
}

// The option value a core error is about, for its message.
export function optionValue(options, name) {
  return options !== null && typeof options === "object" ? options[name] : options;
}

export function randomFill(bytes) {
  if (globalThis.crypto?.getRandomValues) {
    globalThis.crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
  }
}

export function now() {
  return globalThis.performance ? performance.now() : Date.now();
}

export function isSendable(data) {
  return typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

// --- envelopes ---

export function encodePing(type, id) {
  return JSON.stringify({ type, id, timestamp: new Date().toISOString() });
}

// What the application sees of a queued frame: envelopes parsed back.
export function queuedFrame(value, isEnvelope) {
  return isEnvelope ? JSON.parse(value) : value;
}

// --- event payloads and the snapshot (all frozen) ---

export function closeDetails(code, reason, wasClean) {
  return Object.freeze({ code, reason, wasClean });
}

export function latencyStats(last, avg, min, max, jitter, samples) {
  return Object.freeze({ last: last ?? null, avg: avg ?? null, min: min ?? null, max: max ?? null, jitter: jitter ?? null, samples });
}

export function reconnecting(attempt, delayMs) {
  return Object.freeze({ attempt, delayMs });
}

export function queueChange(length, dropped) {
  return Object.freeze({ length, dropped: Object.freeze(dropped) });
}

export function snapshot(state, mode, attempt, nextRetryInMs, latency, queued, sessionId, disconnectReason, closeCode, closeReason, stats) {
  return Object.freeze({
    state,
    mode,
    attempt,
    nextRetryInMs: nextRetryInMs ?? null,
    latencyMs: latency.last,
    latency,
    queued,
    sessionId,
    disconnectReason: disconnectReason ?? null,
    lastClose: closeCode === undefined ? null : Object.freeze({ code: closeCode, reason: closeReason }),
    stats: Object.freeze({ sent: stats[0], received: stats[1], reconnects: stats[2], dropped: stats[3], errors: stats[4] }),
  });
}

// --- errors ---

const ERROR_CLASSES = [Error, TypeError, RangeError];

// `new Error(message)` (kind 0), `TypeError` (1) or `RangeError` (2).
export function makeError(kind, message) {
  return new ERROR_CLASSES[kind](message);
}

// --- the host: one per transport ---

// What the host passes to the transport's single Rust callback
// `call(kind, data, number, flag)`; FRAME answers with VERDICT bits.
const OPEN = 0; // a socket opened
const FRAME = 1; // an application frame; number: its seq or -1; flag: a gap, data: its firstAvailable
const SOCKET_ERROR = 2;
const CLOSE = 3; // data: reason, number: code, flag: wasClean
const TIMER = 4; // number: timer slot
const PAGE = 5; // number: 0 online, 1 offline, 2 visible, 3 frozen (bfcache), 4 restored
const URL_ANSWER = 6; // data: URL or error, number: attempt, flag: fulfilled
const SNAPSHOT = 7; // Rust answers by calling holdSnapshot()
const EVENTS_OPEN = 8; // the fallback's event stream opened
const EVENTS_ERROR = 9;
const POST_DONE = 10; // flag: delivered; data: why not
const PONG = 11; // data: the pong's id
const ACK = 12; // data: the acknowledged envelope's id
const WATCHERS = 13; // number: how many subscribe() listeners there are

// FRAME's answer: deliver it to the listeners; the snapshot changed.
const DELIVER = 1;
const CHANGED = 2;

// The frame types the core consumes itself (PROTOCOL.md §4–§5); a `gap` is
// also delivered, so the application hears what was lost.
const ACK_TYPE = "ack";
const GAP_TYPE = "gap";

function report(context, error) {
  console.error(`resocket: ${context}`, error);
}

// The JavaScript side of one transport: its listeners (so unsubscribe functions
// are plain JS, with nothing to free in wasm), the cached snapshot, and the one
// route back into Rust. `release()` (on free) cuts that route: timers, sockets
// or promises that fire later find nothing to call.
//
// The per-message work is here, so a message crosses into wasm once: `frame()`
// reads an incoming frame and hands the core only what it decides on (kind,
// seq); `encode()` writes an outgoing envelope from the core's message number.
class Host {
  constructor(call, pongType, idPrefix) {
    this.call = call;
    this.pongType = pongType;
    this.idPrefix = idPrefix;
    // Listener lists are never changed in place (copy on write), so a dispatch
    // can walk one while a handler (un)subscribes.
    this.topics = new Map();
    this.types = new Map();
    this.snapshotObject = null;
    this.stale = true;
    this.stopWatching = null;
    // sendWithAck promises by envelope id.
    this.acks = new Map();
    // Standalone functions for useSyncExternalStore (no `this` needed).
    this.subscribe = (listener) => {
      const unsubscribe = this.listen(this.topics, "change", listener);
      this.countWatchers();
      return () => {
        unsubscribe();
        this.countWatchers();
      };
    };
    this.getSnapshot = () => {
      if (this.stale && this.call) {
        this.call(SNAPSHOT, undefined, 0, false);
        this.stale = false;
      }
      return this.snapshotObject;
    };
  }

  invoke(kind, data, number, flag) {
    return this.call ? this.call(kind, data, number, flag) : 0;
  }

  // The core only tells the host about a changed snapshot when someone can
  // notice: a subscriber, or a snapshot object that would go out of date.
  countWatchers() {
    this.invoke(WATCHERS, undefined, this.topics.get("change")?.length ?? 0, false);
  }

  holdSnapshot(snapshot) {
    this.snapshotObject = snapshot;
  }

  listen(map, key, handler) {
    if (typeof handler !== "function") throw optionError(true, "resocket: handler must be a function", handler);
    const entry = { handler };
    map.set(key, [...(map.get(key) ?? []), entry]);
    return () => {
      const list = map.get(key);
      if (list?.includes(entry)) map.set(key, list.filter((other) => other !== entry));
    };
  }

  on(topic, handler) {
    return this.listen(this.topics, topic, handler);
  }

  onType(type, handler) {
    if (typeof type !== "string") throw typeError("type", "must be a string", type);
    return this.listen(this.types, type, handler);
  }

  listening(topic) {
    return (this.topics.get(topic)?.length ?? 0) > 0;
  }

  // Calls each handler; one that throws is reported and does not stop the others.
  dispatch(list, argument) {
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i].handler(argument);
      } catch (error) {
        report("an event listener threw", error);
      }
    }
  }

  emit(topic, argument) {
    this.dispatch(this.topics.get(topic), argument);
  }

  // The snapshot changed: rebuild it on the next getSnapshot(), tell subscribers.
  changed() {
    this.stale = true;
    this.dispatch(this.topics.get("change"), undefined);
  }

  // An incoming frame (a WebSocket message, an event-stream message, or one
  // envelope of a POST reply, already parsed). A JSON object with a string
  // `type` is an envelope: "message" listeners get the parsed object, then
  // onMessage(type) listeners. Anything else (other text, binary) is
  // delivered raw. Pongs and acks go to the core only.
  frame(data) {
    let envelope = data;
    if (typeof data === "string") {
      try {
        envelope = JSON.parse(data);
      } catch {
        envelope = undefined;
      }
    }
    const isEnvelope =
      envelope !== null && typeof envelope === "object" && !Array.isArray(envelope) && typeof envelope.type === "string";
    let verdict;
    if (isEnvelope) {
      const type = envelope.type;
      if (type === this.pongType || type === ACK_TYPE) {
        const id = typeof envelope.id === "string" ? envelope.id : "";
        this.invoke(type === this.pongType ? PONG : ACK, id, 0, false);
        return;
      }
      const seq = Number.isSafeInteger(envelope.seq) && envelope.seq >= 0 ? envelope.seq : -1;
      const first = type === GAP_TYPE ? envelope.data?.firstAvailable : undefined;
      const gap = Number.isSafeInteger(first) && first > 0;
      verdict = this.invoke(FRAME, gap ? first : undefined, seq, gap);
    } else {
      verdict = this.invoke(FRAME, undefined, -1, false);
    }
    // Marked stale before listeners run (one that reads the snapshot sees
    // this frame counted); subscribers hear after them.
    if (verdict & CHANGED) this.stale = true;
    if (verdict & DELIVER) {
      this.emit("message", isEnvelope ? envelope : data);
      if (isEnvelope) this.dispatch(this.types.get(envelope.type), envelope);
    }
    if (verdict & CHANGED) this.dispatch(this.topics.get("change"), undefined);
  }

  // The envelope `{type, data, id, timestamp}` of message `number` as JSON
  // text; the id is spelled as the core's `IdGenerator::message_id` spells it.
  // Throws a TypeError for a non-string type or data JSON cannot write.
  encode(type, data, number) {
    if (typeof type !== "string") throw typeError("type", "must be a string", type);
    try {
      return JSON.stringify({
        type,
        data: data === undefined ? null : data,
        id: `${this.idPrefix}-${number}`,
        timestamp: new Date().toISOString(),
      });
    } catch (error) {
      // ", got TypeError: cyclic object value" says why JSON.stringify refused.
      throw typeError("data", "must be serialisable as JSON", error);
    }
  }

  // shouldReconnect(close) → true/false, or undefined (default policy) if it threw.
  decide(shouldReconnect, close) {
    try {
      return Boolean(shouldReconnect(close));
    } catch (error) {
      report("shouldReconnect threw; using the default policy", error);
      return undefined;
    }
  }

  // A promise settled when the envelope `id` is acknowledged (or lost).
  track(id) {
    return new Promise((resolve, reject) => this.acks.set(id, { resolve, reject }));
  }

  acked(id) {
    const pending = this.acks.get(id);
    if (pending) {
      this.acks.delete(id);
      pending.resolve(id);
    }
  }

  // Rejects the promise of `id` with `error` (an Error, or its message).
  lost(id, error) {
    const pending = this.acks.get(id);
    if (pending) {
      this.acks.delete(id);
      pending.reject(typeof error === "string" ? new Error(error) : error);
    }
  }

  release() {
    for (const id of [...this.acks.keys()]) {
      this.lost(id, "resocket: the transport was freed before the message was acknowledged");
    }
    this.call = null;
    this.stopWatching?.();
    this.topics.clear();
    this.types.clear();
  }
}

export function createHost(call, pongType, idPrefix) {
  return new Host(call, pongType, idPrefix);
}

// --- sockets ---

// Opens a WebSocket (binaryType "arraybuffer") reporting to the host. Throws
// what the constructor throws (bad URL, blocked port, CSP).
export function openSocket(host, url, protocols) {
  const socket = protocols.length ? new WebSocket(url, protocols) : new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => host.invoke(OPEN, undefined, 0, false);
  socket.onmessage = (event) => host.frame(event.data);
  socket.onerror = () => host.invoke(SOCKET_ERROR, undefined, 0, false);
  socket.onclose = (event) => host.invoke(CLOSE, event.reason, event.code, event.wasClean);
  return socket;
}

// Sends a string as text or an ArrayBuffer/view as binary; false if it threw.
export function sendFrame(socket, data) {
  try {
    socket.send(data);
    return true;
  } catch {
    return false;
  }
}

// Detaches the handlers (nothing more is reported) and closes if still open.
export function closeSocket(socket, code, reason) {
  socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
  if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) {
    try {
      socket.close(code, reason);
    } catch {
      socket.close();
    }
  }
}

// --- the HTTP fallback ---

// An EventSource reporting to the host; its messages take the frame path.
// Throws what the constructor throws.
export function openEvents(host, url) {
  const events = new EventSource(url);
  events.onopen = () => host.invoke(EVENTS_OPEN, undefined, 0, false);
  events.onmessage = (event) => host.frame(event.data);
  // The browser would reconnect on its own; the core decides instead.
  events.onerror = () => {
    closeEvents(events);
    host.invoke(EVENTS_ERROR, undefined, 0, false);
  };
  return events;
}

export function closeEvents(events) {
  events.onopen = events.onmessage = events.onerror = null;
  events.close();
}

// POSTs the envelopes (JSON texts) as one array; each envelope of a 2xx
// response takes the frame path (already parsed), then the outcome is reported. `timeoutMs` 0: no timeout.
export function postFrames(host, url, frames, timeoutMs) {
  const init = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `[${frames.join(",")}]`,
  };
  if (timeoutMs > 0 && AbortSignal.timeout) init.signal = AbortSignal.timeout(timeoutMs);
  fetch(url, init)
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then(
      (replies) => {
        if (Array.isArray(replies)) replies.forEach((reply) => host.frame(reply));
        host.invoke(POST_DONE, undefined, 0, true);
      },
      (error) => host.invoke(POST_DONE, String(error?.message ?? error), 0, false),
    );
}

// --- timers ---

// Rounded up so a timer never fires before the core's due time.
export function startTimer(host, slot, delayMs) {
  return setTimeout(() => host.invoke(TIMER, undefined, slot, false), Math.ceil(delayMs));
}

export function cancelTimer(id) {
  clearTimeout(id);
}

// --- the URL function ---

// Calls `provider` and reports the URL (or the error) for `attempt` once,
// whether it returns a string, a promise, or throws.
export function resolveUrl(host, provider, attempt) {
  let settled;
  try {
    settled = Promise.resolve(provider());
  } catch (error) {
    settled = Promise.reject(error);
  }
  settled.then(
    (url) =>
      typeof url === "string"
        ? host.invoke(URL_ANSWER, url, attempt, true)
        : host.invoke(
            URL_ANSWER,
            new TypeError(`the url function must return a string or a Promise of one, got ${describe(url)}`),
            attempt,
            false,
          ),
    (error) => host.invoke(URL_ANSWER, error, attempt, false),
  );
}

// --- page lifecycle ---

// Listens to online/offline (windows and workers) and, in a page, to
// visibilitychange, pagehide and pageshow; `host.release()` removes them.
export function watchPage(host) {
  const removers = [];
  const listen = (target, event, handler) => {
    if (!target?.addEventListener) return;
    target.addEventListener(event, handler);
    removers.push(() => target.removeEventListener(event, handler));
  };
  const signal = (code) => host.invoke(PAGE, undefined, code, false);
  listen(globalThis, "online", () => signal(0));
  listen(globalThis, "offline", () => signal(1));
  const document = globalThis.document;
  if (document) {
    listen(document, "visibilitychange", () => document.visibilityState === "visible" && signal(2));
    listen(globalThis, "pagehide", (event) => event.persisted && signal(3));
    listen(globalThis, "pageshow", (event) => event.persisted && signal(4));
  }
  host.stopWatching = () => removers.forEach((remove) => remove());
}
