// resocket/streams: replies streamed token by token (PROTOCOL.md §8),
// assembled per reply into a growing text. A separate entry of the package
// (`import … from "resocket/streams"`): a page that does not stream pays no
// byte for it. resocket/react's useReplyStream and useReplyStreams are built
// on it.
//
// What it does not need to do, because the transport does it: order (frames
// are delivered in `seq` order) and duplicates across a reconnect (resume by
// `last_seq` drops every frame already delivered). What it adds: the
// assembly, and `interrupted` when the transport says frames were lost (a
// `gap`, or the server's stream started over: `reset`).
//
// Built by scripts/build-pkg with tsc into pkg/streams.js and pkg/streams.d.ts.
import type { Envelope, TransportEvents } from "resocket";

/** One reply as it is assembled. A new frozen object after every change. */
export interface ReplyStream {
  /**
   * Which reply this is: the frames' `data.stream`, else their `replyTo`
   * (the id of the message they answer), else `""` for a server that names
   * neither (one unnamed reply at a time).
   */
  readonly key: string;
  /** The pieces so far, joined. */
  readonly text: string;
  /** How many pieces have arrived. */
  readonly tokens: number;
  /** The last piece has arrived (`data.done: true`). */
  readonly done: boolean;
  /**
   * Pieces of this reply may be missing: while it was unfinished the
   * transport reported a `gap` (frames the server no longer kept) or a
   * `reset` (the server's stream started over, e.g. it restarted). It keeps
   * assembling whatever still arrives.
   */
  readonly interrupted: boolean;
  /** The `replyTo` of its frames: the id of the message it answers, or `null`. */
  readonly replyTo: string | null;
}

/** Options of `new ReplyStreams(transport, options)`. */
export interface ReplyStreamsOptions {
  /** The envelope type of the pieces (default `"token"`). */
  readonly type?: string;
  /**
   * Replies kept (default 100): past it the oldest finished reply is
   * forgotten first, then the oldest unfinished one.
   */
  readonly limit?: number;
}

/** What the helper needs of a transport: a `WebSocketTransport` has it. */
export interface StreamSource {
  onMessage<T = unknown>(type: string, handler: (envelope: Envelope<T>) => void): () => void;
  on<K extends keyof TransportEvents>(event: K, handler: (argument: TransportEvents[K]) => void): () => void;
}

const DEFAULT_TYPE = "token";
const DEFAULT_LIMIT = 100;
const NO_STREAMS: readonly ReplyStream[] = Object.freeze([]);

/** A piece's `data`, when it is one. */
interface Piece {
  token: string;
  done: boolean;
  stream: string | null;
}

function pieceOf(data: unknown): Piece | null {
  if (typeof data !== "object" || data === null) return null;
  const fields = data as Record<string, unknown>;
  if (typeof fields.token !== "string") return null;
  return {
    token: fields.token,
    done: fields.done === true,
    stream: typeof fields.stream === "string" ? fields.stream : null,
  };
}

/**
 * Assembles the streamed replies a transport receives, per reply, from the
 * moment it is created: create it before sending the message whose reply
 * streams, and nothing is missed.
 *
 * ```js
 * const replies = new ReplyStreams(transport);
 * replies.onUpdate((reply) => render(reply.key, reply.text, reply.done));
 * transport.send("stream", { stream: "r1", text: "hello there" });
 * // … replies.get("r1") → { text: "hello there", done: true, … }
 * replies.dispose();
 * ```
 *
 * Throws a `TypeError` for an option of the wrong type and a `RangeError`
 * for a `limit` that is not a whole number of at least 1.
 */
export class ReplyStreams {
  readonly #replies = new Map<string, ReplyStream>();
  readonly #limit: number;
  readonly #listeners = new Set<(stream: ReplyStream) => void>();
  readonly #detach: (() => void)[];
  #list: readonly ReplyStream[] = NO_STREAMS;

  constructor(transport: StreamSource, options: ReplyStreamsOptions = {}) {
    const type = options.type ?? DEFAULT_TYPE;
    if (typeof type !== "string" || type === "") {
      throw new TypeError(`ReplyStreams: type must be a non-empty string, got ${String(type)}`);
    }
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (typeof limit !== "number") {
      throw new TypeError(`ReplyStreams: limit must be a number, got ${typeof limit}`);
    }
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`ReplyStreams: limit must be a whole number of at least 1, got ${limit}`);
    }
    this.#limit = limit;
    const interrupt = () => this.#interruptUnfinished();
    this.#detach = [
      transport.onMessage(type, (envelope) => this.#receive(envelope)),
      transport.onMessage("gap", interrupt),
      transport.on("reset", interrupt),
    ];
  }

  /** The reply with this key, or `undefined`. */
  get(key: string): ReplyStream | undefined {
    return this.#replies.get(key);
  }

  /** Every reply kept, the one started first first. The same frozen array until something changes. */
  list(): readonly ReplyStream[] {
    return this.#list;
  }

  /** Calls `listener` with every reply that changed; returns the unsubscribe function. */
  onUpdate(listener: (stream: ReplyStream) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `subscribe` for React's `useSyncExternalStore` (with `list` or `get`):
   * `listener` is called after every change. Works unbound.
   */
  readonly subscribe = (listener: () => void): (() => void) => this.onUpdate(() => listener());

  /** Forgets a reply (a later piece with its key starts it anew). */
  delete(key: string): boolean {
    const existed = this.#replies.delete(key);
    if (existed) this.#list = Object.freeze([...this.#replies.values()]);
    return existed;
  }

  /** Stops listening to the transport and forgets every reply and listener. Idempotent. */
  dispose(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.#replies.clear();
    this.#listeners.clear();
    this.#list = NO_STREAMS;
  }

  /** `dispose()`, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #receive(envelope: Envelope<unknown>): void {
    const piece = pieceOf(envelope.data);
    if (piece === null) return;
    const replyTo = typeof envelope.replyTo === "string" ? envelope.replyTo : null;
    const key = piece.stream ?? replyTo ?? "";
    const before = this.#replies.get(key);
    // A piece after the last one starts the next reply under the same key.
    const continues = before !== undefined && !before.done;
    const stream: ReplyStream = Object.freeze({
      key,
      text: continues ? before.text + piece.token : piece.token,
      tokens: continues ? before.tokens + 1 : 1,
      done: piece.done,
      interrupted: continues ? before.interrupted : false,
      replyTo: replyTo ?? (continues ? before.replyTo : null),
    });
    if (!continues) this.#replies.delete(key);
    this.#replies.set(key, stream);
    this.#trim();
    this.#changed([stream]);
  }

  /** Past the limit: the oldest finished reply goes first, then the oldest. */
  #trim(): void {
    while (this.#replies.size > this.#limit) {
      let victim: string | undefined;
      for (const [key, stream] of this.#replies) {
        if (stream.done) {
          victim = key;
          break;
        }
      }
      // The map holds more than `limit` (≥ 1) replies here, so it has a first key.
      this.#replies.delete(victim ?? this.#replies.keys().next().value!);
    }
  }

  #interruptUnfinished(): void {
    const changed: ReplyStream[] = [];
    for (const [key, stream] of this.#replies) {
      if (stream.done || stream.interrupted) continue;
      const interrupted = Object.freeze({ ...stream, interrupted: true });
      this.#replies.set(key, interrupted);
      changed.push(interrupted);
    }
    if (changed.length > 0) this.#changed(changed);
  }

  #changed(streams: ReplyStream[]): void {
    this.#list = Object.freeze([...this.#replies.values()]);
    for (const stream of streams) {
      for (const listener of [...this.#listeners]) listener(stream);
    }
  }
}
