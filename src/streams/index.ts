// resocket/streams: replies streamed token by token (PROTOCOL.md §8),
// assembled per reply into a growing text. A separate entry of the package
// (`import … from "resocket/streams"`): a page that does not stream pays no
// byte for it. resocket/react's useReplyStream and useReplyStreams are built
// on it.
//
// What it does not need to do, because the transport does it: duplicates
// across a reconnect (resume by `last_seq` drops every frame already
// delivered). What it adds: the assembly; the order of pieces that carry an
// `index` (over the HTTP fallback a POST's answer and the event stream race);
// and `interrupted` when pieces were lost (the transport says `gap`, or the
// server's stream started over: `reset`; or an `index` skips a number).
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

/** Pieces held back waiting for a missing one, per reply, at most. */
const MAX_EARLY = 256;

/** A piece's `data`, when it is one. */
interface Piece {
  token: string;
  done: boolean;
  stream: string | null;
  /** Its number in the reply, from 0, when the server gives one. */
  index: number | null;
}

function pieceOf(data: unknown): Piece | null {
  if (typeof data !== "object" || data === null) return null;
  const fields = data as Record<string, unknown>;
  if (typeof fields.token !== "string") return null;
  const index = fields.index;
  return {
    token: fields.token,
    done: fields.done === true,
    stream: typeof fields.stream === "string" ? fields.stream : null,
    index: Number.isSafeInteger(index) && (index as number) >= 0 ? (index as number) : null,
  };
}

/** A reply being assembled: what the application sees, and the order kept behind it. */
interface Assembly {
  reply: ReplyStream;
  /** The `index` the next piece should have (pieces with an index only). */
  next: number;
  /** Pieces that came before one still missing, by index. */
  early: Map<number, Piece>;
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
  readonly #replies = new Map<string, Assembly>();
  readonly #limit: number;
  readonly #listeners = new Set<(stream: ReplyStream) => void>();
  readonly #subscribers = new Set<() => void>();
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
    return this.#replies.get(key)?.reply;
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
   * `listener` is called after every change, `delete` included. Works unbound.
   */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  };

  /** Forgets a reply (a later piece with its key starts it anew). */
  delete(key: string): boolean {
    const existed = this.#replies.delete(key);
    if (existed) this.#changed([]);
    return existed;
  }

  /** Stops listening to the transport and forgets every reply and listener. Idempotent. */
  dispose(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.#replies.clear();
    this.#listeners.clear();
    this.#subscribers.clear();
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
    let assembly = this.#replies.get(key);
    // A piece after the last one starts the next reply under the same key.
    if (assembly === undefined || assembly.reply.done) {
      this.#replies.delete(key);
      const reply: ReplyStream = Object.freeze({ key, text: "", tokens: 0, done: false, interrupted: false, replyTo });
      // A first piece that is not piece 0: the reply's start is missing
      // (lost to a gap, or sent before this helper existed).
      assembly = { reply, next: piece.index ?? 0, early: new Map() };
      if (piece.index !== null && piece.index > 0) assembly.reply = Object.freeze({ ...reply, interrupted: true });
      this.#replies.set(key, assembly);
    }
    if (replyTo !== null && assembly.reply.replyTo === null) assembly.reply = Object.freeze({ ...assembly.reply, replyTo });
    const before = assembly.reply;
    if (piece.index === null) this.#append(assembly, piece);
    else if (piece.index === assembly.next) {
      this.#append(assembly, piece);
      this.#appendEarly(assembly);
    } else if (piece.index > assembly.next && assembly.reply.interrupted) {
      // Pieces are known lost already: waiting for the missing ones is
      // pointless, the reply goes on from here.
      this.#append(assembly, piece);
    } else if (piece.index > assembly.next && !assembly.early.has(piece.index)) {
      assembly.early.set(piece.index, piece);
      // Waited long enough for the missing one: it is lost.
      if (assembly.early.size > MAX_EARLY) this.#flush(assembly);
    }
    // (A lower index is a piece already joined: nothing changes.)
    if (assembly.reply === before) return;
    this.#trim(key);
    this.#changed([assembly.reply]);
  }

  /** Joins `piece` to the reply. */
  #append(assembly: Assembly, piece: Piece): void {
    const { reply } = assembly;
    assembly.reply = Object.freeze({ ...reply, text: reply.text + piece.token, tokens: reply.tokens + 1, done: piece.done });
    if (piece.index !== null) assembly.next = piece.index + 1;
  }

  /** Joins the held-back pieces that now follow on. */
  #appendEarly(assembly: Assembly): void {
    for (let piece = assembly.early.get(assembly.next); piece !== undefined && !assembly.reply.done; piece = assembly.early.get(assembly.next)) {
      assembly.early.delete(assembly.next);
      this.#append(assembly, piece);
    }
  }

  /** Gives up on the missing pieces: joins the held-back ones in order, and says the reply is not whole. */
  #flush(assembly: Assembly): void {
    assembly.reply = Object.freeze({ ...assembly.reply, interrupted: true });
    const indexes = [...assembly.early.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      const piece = assembly.early.get(index);
      if (piece === undefined || assembly.reply.done) break;
      this.#append(assembly, piece);
    }
    assembly.early.clear();
  }

  /** Past the limit: the oldest finished reply goes first, then the oldest; never `keep`, the one just changed. */
  #trim(keep: string): void {
    while (this.#replies.size > this.#limit) {
      let victim: string | undefined;
      let oldest: string | undefined;
      for (const [key, { reply }] of this.#replies) {
        if (key === keep) continue;
        oldest ??= key;
        if (reply.done) {
          victim = key;
          break;
        }
      }
      // The map holds more than `limit` (≥ 1) replies here, so another key than `keep`.
      this.#replies.delete(victim ?? oldest!);
    }
  }

  #interruptUnfinished(): void {
    const changed: ReplyStream[] = [];
    for (const assembly of this.#replies.values()) {
      if (assembly.reply.done || (assembly.reply.interrupted && assembly.early.size === 0)) continue;
      this.#flush(assembly);
      changed.push(assembly.reply);
    }
    if (changed.length > 0) this.#changed(changed);
  }

  #changed(streams: ReplyStream[]): void {
    this.#list = Object.freeze([...this.#replies.values()].map((assembly) => assembly.reply));
    for (const stream of streams) {
      for (const listener of [...this.#listeners]) listener(stream);
    }
    for (const subscriber of [...this.#subscribers]) subscriber();
  }
}
