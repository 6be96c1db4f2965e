// @ts-check
// The package's entry (pkg/resocket.js once bundled): `init()`/`initSync()`
// instantiate resocket_bg.wasm and give its exports to the class;
// `createTransport()` does both steps in one call.
import { loadWasm } from "./loader.js";
import { bindCore, coreImports, WebSocketTransport } from "./transport.js";

export { WebSocketTransport };

/** @typedef {import("./resocket.js").InitOutput} InitOutput */

/** @type {InitOutput | undefined} */
let exports;
/** @type {Promise<InitOutput> | undefined} */
let loading;

/**
 * @param {WebAssembly.Instance} instance
 * @returns {InitOutput}
 */
function bind(instance) {
  exports = /** @type {InitOutput} */ (/** @type {unknown} */ (instance.exports));
  bindCore(exports);
  return exports;
}

/**
 * Loads and instantiates the .wasm once; later calls return the same exports.
 * @param {unknown} [input] nothing (the .wasm beside this module), `{ module_or_path }`, or the source itself
 * @returns {Promise<InitOutput>}
 */
export default function init(input) {
  if (exports) return Promise.resolve(exports);
  // The URL stays in this form, here, so that bundlers find and emit the file.
  loading ??= loadWasm(input, coreImports, () => new URL("resocket_bg.wasm", import.meta.url)).then(
    ({ instance }) => bind(instance),
    (error) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * Instantiates the .wasm synchronously from its bytes or a compiled module.
 * @param {{ module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module} module
 * @returns {InitOutput}
 */
export function initSync(module) {
  if (exports) return exports;
  if (module !== null && typeof module === "object" && Object.getPrototypeOf(module) === Object.prototype) {
    ({ module } = /** @type {{ module: BufferSource | WebAssembly.Module }} */ (module));
  }
  const compiled = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(/** @type {BufferSource} */ (module));
  return bind(new WebAssembly.Instance(compiled, coreImports));
}

/**
 * Loads the .wasm (once: the same as `await init()`) and creates a transport.
 * @param {import("./resocket.js").TransportOptions} options
 */
export async function createTransport(options) {
  await init();
  return new WebSocketTransport(options);
}
