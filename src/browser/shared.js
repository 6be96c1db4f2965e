// @ts-check
// `resocket/shared` (pkg/shared.js once bundled): the package's API over the
// shared-tabs build of the core (resocket_shared_bg.wasm), where
// `WebSocketTransport` also takes `shareAcrossTabs` (tabs.js). Pages that
// import "resocket" download neither.
import { entryPoints } from "./entry.js";
import { SharedTransport } from "./tabs.js";

export { SharedTransport as WebSocketTransport };

// The URL stays in this form, here, so that bundlers find and emit the file.
const entry = entryPoints(() => new URL("resocket_shared_bg.wasm", import.meta.url), SharedTransport);

export default entry.init;
export const initSync = entry.initSync;
export const createTransport = entry.createTransport;
