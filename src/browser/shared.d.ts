// Declarations of `resocket/shared`: the package's API over the shared-tabs
// build, where a transport can share one connection with the other tabs of
// its origin (README: "One connection for all tabs").
import { WebSocketTransport as Transport } from "./resocket.js";
import type { InitInput, InitOutput, SyncInitInput, TransportOptions } from "./resocket.js";

export * from "./resocket.js";

/** The options of `resocket/shared`: every option of `resocket`, and `shareAcrossTabs`. */
export type SharedTransportOptions = TransportOptions & {
  /**
   * `true` or a name: the tabs of this origin whose transports give the
   * same name (`true` is one shared name) hold one server connection between
   * them. One tab (the leader, elected with Web Locks) holds the socket; the
   * others send and receive through it, with the same API, events and
   * snapshot. When the leader closes, or the browser freezes it or puts it
   * in the back/forward cache, another tab takes over and resumes the
   * session, re-sending every message not yet settled. The leader's options
   * are the connection's. Default: `false` (this tab's own connection).
   */
  shareAcrossTabs?: boolean | string;
};

/**
 * `WebSocketTransport` of `resocket/shared`: the same class, with
 * `shareAcrossTabs`. In a tab that shares, `send` answers from the shared
 * connection's state (`"sent"` or `"http"` while it is connected, else
 * `"queued"`), `queued()` lists every tab's messages not yet settled, and
 * raw frames stay at-most-once: one sent while no tab leads is not re-sent.
 */
export class WebSocketTransport extends Transport {
  constructor(options: SharedTransportOptions);
  /**
   * Whether this tab holds the connection: always `true` without
   * `shareAcrossTabs`, and `true` in one tab of those that share.
   */
  readonly isLeader: boolean;
}

/** Loads the shared build's .wasm (once) and creates a transport. */
export function createTransport(options: SharedTransportOptions): Promise<WebSocketTransport>;

/** Instantiates the shared build's .wasm synchronously (once). */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** Loads and instantiates resocket_shared_bg.wasm (once), from beside this module by default. */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
