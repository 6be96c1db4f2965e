// @ts-check
// What an entry exports besides the class: `init()`/`initSync()` to
// instantiate its .wasm once and give its exports to the class, and
// `createTransport()` for both steps in one call. resocket.js (the default
// build) and shared.js (`resocket/shared`, the shared-tabs build) each make
// theirs around their own .wasm.
import { loadWasm } from "./loader.js";
import { bindCore, coreImports } from "./transport.js";

/** @typedef {import("./resocket.js").InitOutput} InitOutput */

/**
 * @template {new (options: any) => any} T
 * @param {() => URL} packagedUrl where the entry's .wasm ships beside it (the
 *   entry's own `new URL(…, import.meta.url)`, which bundlers rewrite)
 * @param {T} Transport the class `createTransport` makes
 */
export function entryPoints(packagedUrl, Transport) {
  /** @type {InitOutput | undefined} */
  let exports;
  /** @type {Promise<InitOutput> | undefined} */
  let loading;

  /** @param {WebAssembly.Instance} instance */
  const bind = (instance) => {
    exports = /** @type {InitOutput} */ (/** @type {unknown} */ (instance.exports));
    bindCore(exports);
    return exports;
  };

  /**
   * Loads and instantiates the .wasm once; later calls return the same exports.
   * @param {unknown} [input] nothing (the .wasm beside the entry), `{ module_or_path }`, or the source itself
   * @returns {Promise<InitOutput>}
   */
  const init = (input) => {
    if (exports) return Promise.resolve(exports);
    loading ??= loadWasm(input, coreImports, packagedUrl).then(
      ({ instance }) => bind(instance),
      (error) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };

  /**
   * Instantiates the .wasm synchronously from its bytes or a compiled module.
   * @param {{ module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module} module
   * @returns {InitOutput}
   */
  const initSync = (module) => {
    if (exports) return exports;
    if (module !== null && typeof module === "object" && Object.getPrototypeOf(module) === Object.prototype) {
      ({ module } = /** @type {{ module: BufferSource | WebAssembly.Module }} */ (module));
    }
    const compiled = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(/** @type {BufferSource} */ (module));
    return bind(new WebAssembly.Instance(compiled, coreImports));
  };

  /**
   * Loads the .wasm (once: the same as `await init()`) and creates a transport.
   * @param {ConstructorParameters<T>[0]} options
   * @returns {Promise<InstanceType<T>>}
   */
  const createTransport = async (options) => {
    await init();
    return new Transport(options);
  };

  return { init, initSync, createTransport };
}
