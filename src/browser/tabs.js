// @ts-check
// One connection for all the tabs of an origin: `shareAcrossTabs` in the
// `resocket/shared` build (docs/shared-connection.md has the design and the
// measurements behind it).
//
// Every tab has a transport of its own (this class), but only the leader's
// connects. The leader is elected with Web Locks: the browser grants the
// lock to one tab and hands it to the next when that tab closes, crashes or
// gives it up (on `freeze` and `pagehide`). Where there are no Web Locks (a
// page on `http://` by LAN address) the tabs elect one with a lease over the
// channel (`core::tabs::Lease`: a leader renews it every 250 ms, a tab that
// hears none for a second stands). The tabs talk over one BroadcastChannel
// per key:
// - the leader publishes the frames its core delivers (with their `seq`),
//   its events and its snapshot with where the session stands;
// - every tab posts its messages to all: each tab's core keeps them in its
//   mirror until the leader reports them settled, and the leader relays
//   them under the ids their tab gave them;
// - a tab that becomes leader adopts the session (id, epoch, last seq) and
//   re-sends its mirror before anything new.
// Which frames a tab delivers, what the mirror holds and what a new leader
// takes over with are the core's rules (src/core/tabs, through the `Tab*`,
// `Lead` and `Point` calls); this file only moves messages between tabs.

import {
  ANSWER_MASK,
  CALL_LEAD,
  CALL_POINT,
  CALL_TAB_ANNOUNCED,
  CALL_TAB_BALLOT,
  CALL_TAB_FRAME,
  CALL_TAB_JOINED,
  CALL_TAB_MIRROR,
  CALL_TAB_POSTED,
  CALL_TAB_PRESENCE,
  CALL_TAB_RESET,
  CALL_TAB_SETTLED,
  CALL_TAB_TIMEOUT,
  DELIVER,
  EVENT_NAMES,
  OP_BALLOT,
  OP_DEPOSED,
  OP_ELECTED,
  OP_ERROR,
  OP_LEASE_TIMER,
  OP_MIRRORED,
  WebSocketTransport,
  insides as maybeInsides,
  optionError,
} from "./transport.js";

/** @typedef {import("./resocket.js").TransportSnapshot} TransportSnapshot */
/** @typedef {import("./resocket.js").SendResult} SendResult */
/** @typedef {import("./resocket.js").QueuedFrame} QueuedFrame */
/** @typedef {import("./shared.js").SharedTransportOptions} SharedTransportOptions */

/**
 * What this file reaches inside a transport (transport.js fills it in the
 * shared build).
 * @typedef {{
 *   envelope(t: WebSocketTransport, type: unknown, data: unknown): { id: string, frame: string },
 *   relay(t: WebSocketTransport, value: string, id: string, awaitsAck: boolean): Promise<unknown>,
 *   call(t: WebSocketTransport, call: number, a: number, b: number, input?: string | Uint8Array): { answer: number, records: any[][], bytes: Uint8Array },
 *   setSessionId(t: WebSocketTransport, id: string): void,
 *   emit(t: WebSocketTransport, topic: string, argument: unknown): void,
 *   deliver(t: WebSocketTransport, message: unknown): void,
 *   show(t: WebSocketTransport, snapshot: TransportSnapshot, notify: boolean): void,
 *   isLive(t: WebSocketTransport): boolean,
 * }} Insides
 */

/**
 * A message between tabs (the table in docs/shared-connection.md).
 * @typedef {{ kind: "hello", tab: number }
 *   | { kind: "ballot", tab: number, ballot: number }
 *   | { kind: "state", tab: number, to?: number, sessionId: string, epoch: string, lastSeq: number, capacity: number, snapshot: TransportSnapshot, mirror?: Uint8Array }
 *   | { kind: "event", tab: number, name: string, argument: unknown, snapshot: TransportSnapshot }
 *   | { kind: "frame", seq: number, message: unknown }
 *   | { kind: "bye", tab: number }
 *   | { kind: "post", tab: number, id: string, frame: string, awaitsAck: boolean }
 *   | { kind: "settled", id: string, why: string | null }
 *   | Command
 *   | { kind: "ran", id: string }} TabMessage
 */

/**
 * What a follower asks the leader to do; kept until a leader says it ran
 * it (`ran`), and asked again of the next leader.
 * @typedef {{ kind: "command", id: string, name: "connect" | "reconnect" | "clearQueue" | "disconnect" | "raw", code?: number, reason?: string, data?: string | ArrayBuffer | ArrayBufferView }} Command
 */

const insides = /** @type {Insides} */ (maybeInsides);

/** A tab's id: a random whole number below 2^53 (exact as a JavaScript number and as the core's u64). */
function newTabId() {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (high >>> 11) * 2 ** 32 + low;
}

/** The `seq` of a published frame, or NaN when it has none. */
const seqOf = (/** @type {any} */ message) => (typeof message?.seq === "number" ? message.seq : NaN);

/**
 * `WebSocketTransport` of the shared build: without `shareAcrossTabs` it is
 * the plain transport; with it, one tab of the origin holds the connection
 * for all (see the file's head).
 */
export class SharedTransport extends WebSocketTransport {
  /** @type {BroadcastChannel | null} null when not shared */
  #channel = null;
  #lockName = "";
  #tab = newTabId();
  #leading = false;
  /** Raised on every change of leadership: a relay's outcome from an older one is not reported. */
  #generation = 0;
  /** The leader whose snapshot and events this tab shows (0: none yet). */
  #followed = 0;
  /** @type {Map<string, Command>} commands and raw frames no leader has run yet */
  #pending = new Map();
  #commands = 0;
  /** @type {(() => void) | null} gives the lock back */
  #release = null;
  /** @type {AbortController | null} the lock request waiting */
  #standing = null;
  /** No Web Locks here: the tabs elect by lease (`Tab*` election calls). */
  #byLease = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} the lease election's timer */
  #electionTimer = undefined;
  /** The page is hidden in the back/forward cache or frozen: it neither leads nor stands. */
  #away = false;
  #autoConnect = true;
  /** @type {TransportSnapshot | null} the last leader's snapshot */
  #announced = null;
  /** @type {Map<string, { resolve: (id: string) => void, reject: (error: Error) => void }>} this tab's `sendWithAck` promises, by id */
  #mine = new Map();
  /** @type {(() => void)[]} */
  #unwatch = [];

  /**
   * @param {SharedTransportOptions} options
   */
  constructor(options) {
    const share = /** @type {any} */ (options)?.shareAcrossTabs;
    if (share === undefined || share === false) {
      const { shareAcrossTabs: _, ...plain } = /** @type {any} */ (options ?? {});
      super(options === null || typeof options !== "object" ? options : plain);
      return;
    }
    if (share !== true && (typeof share !== "string" || share === "")) {
      throw optionError("shareAcrossTabs", "must be true, false or a non-empty string (the shared connection's name)", share);
    }
    const { shareAcrossTabs: _, ...own } = /** @type {any} */ (options);
    super({ ...own, autoConnect: false });
    this.#autoConnect = own.autoConnect !== false;
    // Without BroadcastChannel there are no other tabs to share with.
    if (typeof BroadcastChannel !== "function") {
      this.#lead(() => {});
      return;
    }
    this.#lockName = `resocket:${share === true ? "" : share}`;
    this.#byLease = !globalThis.navigator?.locks;
    const channel = new BroadcastChannel(this.#lockName);
    this.#channel = channel;
    channel.onmessage = (event) => this.#heard(event.data);
    this.#publishWhileLeading();
    this.#watchPage();
    this.#post({ kind: "hello", tab: this.#tab });
    this.#stand();
  }

  // --- leading ---

  /** Takes part in the election: asks for the lock (or joins the lease); the tab leads once granted. */
  #stand() {
    if (this.#standing || this.#leading || this.#away || !this.#channel) return;
    if (this.#byLease) {
      this.#elect(CALL_TAB_PRESENCE, this.#tab, 1);
      return;
    }
    const standing = new AbortController();
    this.#standing = standing;
    /** @type {LockManager} */ (globalThis.navigator.locks)
      .request(this.#lockName, { signal: standing.signal }, () => {
        this.#standing = null;
        return new Promise((release) => this.#lead(() => release(undefined)));
      })
      .catch((/** @type {unknown} */ error) => {
        if (this.#standing !== standing) return;
        this.#standing = null;
        // Aborted: this tab stepped aside. Refused (a sandboxed frame, a
        // browser that has the API but denies it): elect by lease instead.
        if (/** @type {Error} */ (error)?.name !== "AbortError") {
          this.#byLease = true;
          this.#stand();
        }
      });
  }

  /**
   * This tab leads: its core adopts the session the tabs shared, re-sends
   * the messages no leader settled, and connects.
   * @param {() => void} release
   */
  #lead(release) {
    if (this.#away || !insides.isLive(this)) {
      release();
      return;
    }
    this.#release = release;
    this.#leading = true;
    this.#generation++;
    this.#followed = this.#tab;
    for (const [op, tab, awaitsAck, id, frame] of insides.call(this, CALL_LEAD, 0, 0).records) {
      if (op === OP_MIRRORED) this.#relay(id, frame, awaitsAck === 1);
      // The session announced could not be adopted: this tab leads its own.
      else if (op === OP_ERROR) insides.emit(this, "error", new Error(tab));
    }
    const [[, sessionId]] = insides.call(this, CALL_POINT, 0, 0).records;
    insides.setSessionId(this, sessionId);
    this.#announce();
    if (this.#autoConnect && this.#announced?.disconnectReason !== "client") super.connect();
    // What this tab asked of the last leader and did not hear it run (a
    // disconnect stays down).
    for (const command of [...this.#pending.values()]) this.#run(command);
  }

  /**
   * An election call (lease mode), then what the election asks: ballots to
   * post, leading or no longer, its timer.
   * @param {number} call
   * @param {number} [a]
   * @param {number} [b]
   */
  #elect(call, a = 0, b = 0) {
    for (const [op, first, second, third] of this.#tabCall(call, a, b)) {
      switch (op) {
        case OP_BALLOT:
          this.#post({ kind: "ballot", tab: second, ballot: third * 4 + first });
          break;
        case OP_ELECTED:
          this.#lead(() => {});
          break;
        case OP_DEPOSED:
          this.#stepDown();
          break;
        case OP_LEASE_TIMER:
          clearTimeout(this.#electionTimer);
          // Rounded up, so it never fires before the election's deadline.
          this.#electionTimer = first === first ? setTimeout(() => this.#elect(CALL_TAB_TIMEOUT), Math.ceil(first)) : undefined;
          break;
      }
    }
  }

  /** This tab stops leading (it leaves, or the page is hidden or frozen): the next tab takes over. */
  #stepDown() {
    this.#standing?.abort();
    this.#standing = null;
    if (!this.#leading) return;
    this.#leading = false;
    this.#generation++;
    // What was relayed and not settled stays in every tab's mirror: the
    // next leader re-sends it, so dropping it here loses nothing.
    super.disconnect(1000, "another tab takes over");
    super.clearQueue();
    const release = this.#release;
    this.#release = null;
    release?.();
    // The tabs that show this one's snapshot ask the next leader for its own.
    this.#post({ kind: "bye", tab: this.#tab });
    // Still here (deposed by another lease): the leader's answer shows its snapshot.
    if (!this.#away) this.#post({ kind: "hello", tab: this.#tab });
  }

  /**
   * Sends a tab's message (this tab's own too) under the id that tab gave it,
   * and tells every tab when it is settled.
   * @param {string} id
   * @param {string} frame
   * @param {boolean} awaitsAck
   */
  #relay(id, frame, awaitsAck) {
    const generation = this.#generation;
    const report = (/** @type {string | null} */ why) => {
      if (generation !== this.#generation) return;
      this.#post({ kind: "settled", id, why });
      this.#settled(id, why);
    };
    insides.relay(this, frame, id, awaitsAck).then(
      () => report(null),
      (error) => report(String(error?.message ?? error)),
    );
  }

  /**
   * Where the session stands and the snapshot, to every tab (and the mirror
   * to a tab that just said hello).
   * @param {number} [to]
   */
  #announce(to) {
    if (!this.#leading) return;
    const [[, sessionId, epoch, lastSeq, capacity]] = insides.call(this, CALL_POINT, 0, 0).records;
    /** @type {TabMessage} */
    const state = { kind: "state", tab: this.#tab, sessionId, epoch, lastSeq, capacity, snapshot: super.snapshot() };
    if (to !== undefined) {
      state.to = to;
      state.mirror = insides.call(this, CALL_TAB_MIRROR, 0, 0).bytes;
    }
    this.#post(state);
  }

  /** The leader's core's events, frames and snapshot go to every tab. */
  #publishWhileLeading() {
    for (const name of EVENT_NAMES) {
      if (name === "message") continue;
      // With the snapshot as it is now: a follower's listener that reads
      // `state` or sends sees what the leader's own listener sees.
      this.on(name, (argument) => {
        if (this.#leading) this.#post({ kind: "event", tab: this.#tab, name, argument, snapshot: super.snapshot() });
      });
    }
    this.on("message", (message) => {
      if (!this.#leading) return;
      const seq = seqOf(message);
      // The leader's own tab delivered it: a later takeover resumes after it.
      this.#tabCall(CALL_TAB_FRAME, seq);
      this.#post({ kind: "frame", seq, message });
    });
    this.on("reset", (reset) => {
      if (this.#leading) this.#tabCall(CALL_TAB_RESET, reset.firstSeq);
    });
    this.subscribe(() => this.#announce());
  }

  // --- the channel ---

  /** @param {TabMessage} message */
  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // Closed (the tab is leaving): the others hear from the next leader.
    }
  }

  /** @param {TabMessage} message */
  #heard(message) {
    if (!insides.isLive(this)) return;
    switch (message?.kind) {
      case "hello":
        this.#announce(message.tab);
        break;
      case "ballot":
        if (this.#byLease) this.#elect(CALL_TAB_BALLOT, message.tab, message.ballot);
        break;
      case "state":
        if (this.#leading || (message.to !== undefined && message.to !== this.#tab)) break;
        this.#follow(message.tab);
        this.#evicted(this.#tabCall(CALL_TAB_ANNOUNCED, message.lastSeq, message.capacity, `${message.sessionId} ${message.epoch}`));
        if (message.mirror) this.#evicted(this.#tabCall(CALL_TAB_JOINED, 0, 0, message.mirror));
        this.#announced = message.snapshot;
        insides.setSessionId(this, message.sessionId);
        insides.show(this, message.snapshot, true);
        break;
      case "event":
        if (this.#leading) break;
        this.#follow(message.tab);
        if (message.name === "reset") this.#tabCall(CALL_TAB_RESET, /** @type {any} */ (message.argument).firstSeq);
        insides.show(this, message.snapshot, false);
        insides.emit(this, message.name, message.argument);
        break;
      case "frame":
        if (this.#leading) break;
        if ((insides.call(this, CALL_TAB_FRAME, message.seq, 0).answer & ANSWER_MASK) === DELIVER) insides.deliver(this, message.message);
        break;
      case "post":
        this.#mirror(message.tab, message.id, message.frame, message.awaitsAck);
        if (this.#leading) this.#relay(message.id, message.frame, message.awaitsAck);
        break;
      case "settled":
        this.#settled(message.id, message.why);
        break;
      case "command":
        if (this.#leading) this.#run(message);
        break;
      case "ran":
        this.#pending.delete(message.id);
        break;
      case "bye":
        // The leader this tab showed went: ask whoever leads now for its state.
        if (message.tab === this.#followed) this.#post({ kind: "hello", tab: this.#tab });
        break;
    }
  }

  /**
   * This tab shows leader `tab`'s snapshot and events; a new leader is also
   * asked again what the last one was asked and did not run.
   * @param {number} tab
   */
  #follow(tab) {
    if (tab === this.#followed) return;
    this.#followed = tab;
    for (const command of this.#pending.values()) this.#post(command);
  }

  /**
   * A tab call on this tab's core; its records.
   * @param {number} call
   * @param {number} a
   * @param {number} [b]
   * @param {string | Uint8Array} [input]
   */
  #tabCall(call, a, b = 0, input) {
    return insides.call(this, call, a, b, input).records;
  }

  /**
   * A message enters this tab's mirror; returns the ids it let go of.
   * @param {number} tab
   * @param {string} id
   * @param {string} frame
   * @param {boolean} awaitsAck
   */
  #mirror(tab, id, frame, awaitsAck) {
    return this.#evicted(this.#tabCall(CALL_TAB_POSTED, tab, awaitsAck ? 1 : 0, `${id} ${frame}`));
  }

  /**
   * Messages the mirror pushed out (every tab's mirror the same ones): this
   * tab's own fail, as a full queue's do. Returns their ids.
   * @param {any[][]} records
   */
  #evicted(records) {
    /** @type {string[]} */
    const ids = [];
    for (const [, tab, , id] of records) {
      ids.push(id);
      if (tab === this.#tab) this.#settled(id, "resocket: the message was dropped: the shared queue was full");
    }
    return ids;
  }

  /**
   * Message `id` is settled: it leaves the mirror, and its promise (if this
   * tab sent it) resolves, or rejects with the error's message `why`.
   * @param {string} id
   * @param {string | null} why
   */
  #settled(id, why) {
    this.#tabCall(CALL_TAB_SETTLED, 0, 0, id);
    const mine = this.#mine.get(id);
    if (!mine) return;
    this.#mine.delete(id);
    if (why === null) mine.resolve(id);
    else mine.reject(new Error(why));
  }

  /**
   * Runs a command on this tab's connection (it leads), and tells the tab
   * that asked.
   * @param {Command} command
   */
  #run(command) {
    this.#pending.delete(command.id);
    this.#post({ kind: "ran", id: command.id });
    try {
      switch (command.name) {
        case "connect":
          return super.connect();
        case "reconnect":
          return super.reconnect();
        case "clearQueue":
          return super.clearQueue();
        case "disconnect":
          return super.disconnect(command.code, command.reason);
        case "raw":
          return void super.sendRaw(/** @type {string | ArrayBuffer | ArrayBufferView} */ (command.data));
      }
    } catch (error) {
      // Checked in the tab that asked; only a rule this tab applies differently gets here.
      insides.emit(this, "error", error);
    }
  }

  /**
   * Runs a command on the shared connection: here if this tab leads, else
   * in the leader. It is kept until a leader runs it, so one asked while
   * the leadership changes hands is run by the next leader.
   * @param {Omit<Command, "kind" | "id">} what
   */
  #command(what) {
    /** @type {Command} */
    const command = { kind: "command", id: `${this.#tab}-${++this.#commands}`, ...what };
    if (this.#leading) return this.#run(command);
    this.#pending.set(command.id, command);
    this.#post(command);
  }

  /** Leaves the leadership when the page is frozen or hidden in the back/forward cache, and stands again when it is back. */
  #watchPage() {
    /**
     * @param {any} target
     * @param {string} event
     * @param {(event: any) => void} handler
     */
    const listen = (target, event, handler) => {
      target?.addEventListener?.(event, handler);
      this.#unwatch.push(() => target?.removeEventListener?.(event, handler));
    };
    const away = () => this.#leave();
    const back = () => {
      this.#away = false;
      this.#post({ kind: "hello", tab: this.#tab });
      this.#stand();
    };
    listen(globalThis, "pagehide", away);
    listen(globalThis, "pageshow", (event) => event.persisted && back());
    listen(globalThis.document, "freeze", away);
    listen(globalThis.document, "resume", back);
  }

  /** What a send answers in a tab of a shared connection: what the leader's state says will happen. */
  #result() {
    const snapshot = this.snapshot();
    return /** @type {SendResult} */ (snapshot.state !== "connected" ? "queued" : snapshot.mode === "http" ? "http" : "sent");
  }

  /**
   * Posts this tab's message to every tab (and relays it if this tab leads);
   * false when the shared queue is full and lets go of it (every mirror
   * would: `queueOverflow` other than "drop-oldest").
   * @param {string} id
   * @param {string} frame
   * @param {boolean} awaitsAck
   */
  #send(id, frame, awaitsAck) {
    if (this.#mirror(this.#tab, id, frame, awaitsAck).includes(id)) return false;
    this.#post({ kind: "post", tab: this.#tab, id, frame, awaitsAck });
    if (this.#leading) this.#relay(id, frame, awaitsAck);
    return true;
  }

  // --- the public API (the rest is WebSocketTransport's, fed by the leader) ---

  /** @param {string} type @param {unknown} data */
  send(type, data) {
    if (!this.#channel) return super.send(type, data);
    const { id, frame } = insides.envelope(this, type, data);
    return this.#send(id, frame, false) ? this.#result() : "dropped";
  }

  /** @param {string} type @param {unknown} data @returns {Promise<string>} */
  sendWithAck(type, data) {
    if (!this.#channel) return super.sendWithAck(type, data);
    const { id, frame } = insides.envelope(this, type, data);
    /** @type {Promise<string>} */
    const promise = new Promise((resolve, reject) => this.#mine.set(id, { resolve, reject }));
    this.#send(id, frame, true);
    return promise;
  }

  /**
   * Raw frames go through the leader's queue, at-most-once as in one tab:
   * they are not in the tabs' mirror, so one the leader had queued when it
   * went is not re-sent.
   * @param {string | ArrayBuffer | ArrayBufferView} data
   */
  sendRaw(data) {
    if (!this.#channel || this.#leading) return super.sendRaw(data);
    this.#live();
    if (typeof data !== "string" && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
      throw optionError("data", "must be a string, an ArrayBuffer or a typed array", data);
    }
    this.#command({ name: "raw", data });
    return this.#result();
  }

  /** Whether this tab holds the connection: always for a transport that does not share, and for one tab of those that do. */
  get isLeader() {
    this.#live();
    return !this.#channel || this.#leading;
  }

  /** Throws when the transport was freed (the base class's getter does). */
  #live() {
    void super.sessionId;
  }

  connect() {
    if (!this.#channel) return super.connect();
    this.#live();
    this.#autoConnect = true;
    this.#command({ name: "connect" });
  }

  reconnect() {
    if (!this.#channel) return super.reconnect();
    this.#live();
    this.#command({ name: "reconnect" });
  }

  /** @param {number} [code] @param {string} [reason] */
  disconnect(code, reason) {
    if (!this.#channel || this.#leading) return super.disconnect(code, reason);
    // Checked by this tab's own core (which is not connected), then run by the leader's.
    super.disconnect(code, reason);
    if (this.#announced) insides.show(this, this.#announced, false);
    this.#command({ name: "disconnect", code, reason });
  }

  clearQueue() {
    if (!this.#channel) return super.clearQueue();
    this.#live();
    this.#command({ name: "clearQueue" });
  }

  /** The messages no leader has settled yet, every tab's, oldest first. @returns {QueuedFrame[]} */
  queued() {
    if (!this.#channel) return super.queued();
    this.#live();
    return this.#tabCall(CALL_TAB_MIRROR, 0).map(([, , , , frame]) => JSON.parse(frame));
  }

  /** This tab leaves the election (the page is frozen or hidden, or the transport freed): a leader resigns. */
  #leave() {
    this.#away = true;
    if (this.#byLease) this.#elect(CALL_TAB_PRESENCE, this.#tab, 0);
    this.#stepDown();
  }

  free() {
    if (!this.#channel || !insides.isLive(this)) return super.free();
    this.#leave();
    clearTimeout(this.#electionTimer);
    const channel = this.#channel;
    channel.onmessage = null;
    channel.close();
    for (const remove of this.#unwatch) remove();
    for (const [id] of this.#mine) this.#settled(id, "resocket: the transport was freed before the message was acknowledged");
    super.free();
  }
}
