// @ts-check
// The package's entry (pkg/resocket.js once bundled): the class, and
// `init()`/`initSync()`/`createTransport()` for resocket_bg.wasm (entry.js).
import { entryPoints } from "./entry.js";
import { WebSocketTransport } from "./transport.js";

export { WebSocketTransport };

// The URL stays in this form, here, so that bundlers find and emit the file.
const entry = entryPoints(() => new URL("resocket_bg.wasm", import.meta.url), WebSocketTransport);

export default entry.init;
export const initSync = entry.initSync;
export const createTransport = entry.createTransport;
