// @ts-check
// Loads resocket_bg.wasm for `init()` (resocket.js). Three things a plain
// `WebAssembly.instantiateStreaming(fetch(url))` does not do:
// - a load that fails says which URL, what came back and where to read more,
//   instead of "expected magic word 00 61 73 6d, found 3c 21 64 6f";
// - Vite 5–7's dev server pre-bundles the glue into node_modules/.vite/deps/
//   and leaves the .wasm behind; the package's own copy is then fetched from
//   node_modules/resocket/, so those apps need no `optimizeDeps` entry;
// - in Node.js (and Deno or Bun with `process`) the glue's `file:` URL is read
//   from disk, since Node's fetch() has no `file:` URLs.

/** Where the README explains what to configure when the .wasm cannot be fetched. */
const HELP = "see https://github.com/resocket/resocket#bundlers";

/**
 * A pre-bundled copy's .wasm URL → the package's own, or "" when `href` is not one.
 * Vite names its optimizer folders `deps` (and `deps_ssr`, `deps_temp_…`).
 * @param {string} href
 */
export function packageCopyOf(href) {
  const moved = href.replace(/\.vite\/deps[\w-]*\/(?=resocket(_shared)?_bg\.wasm)/, "resocket/");
  return moved === href ? "" : moved;
}

/**
 * The module's bytes from a fetch of `href`, or an Error that names the URL and
 * what came back instead.
 * @param {Promise<Response> | Response} pending
 * @param {string} href
 * @returns {Promise<Uint8Array>}
 */
async function bytesOf(pending, href) {
  let problem;
  try {
    const response = await pending;
    const bytes = new Uint8Array(await response.arrayBuffer());
    // The magic number `\0asm` tells a module from an HTML page (a dev
    // server's answer to unknown paths); anything else the engine rejects is
    // reported by instantiate() as it is.
    if (response.ok && bytes[0] === 0 && bytes[1] === 97 && bytes[2] === 115 && bytes[3] === 109) return bytes;
    problem = response.ok ? `got ${response.headers.get("content-type")}, not WebAssembly` : `HTTP ${response.status}`;
  } catch (error) {
    problem = /** @type {Error} */ (error).message;
  }
  const copy = packageCopyOf(href);
  const failure = new Error(`resocket: could not load resocket_bg.wasm from ${href}: ${problem} — ${HELP}`);
  if (copy) return bytesOf(fetch(copy), copy).catch(() => Promise.reject(failure));
  throw failure;
}

/**
 * Instantiates the module for `init(input)`. `input` is what the application
 * passed: nothing, `{ module_or_path }`, or (as wasm-bindgen also accepts) the
 * source itself: a URL, path, Request, Response, bytes or a compiled Module,
 * or a Promise of one.
 * @param {unknown} input
 * @param {WebAssembly.Imports} imports
 * @param {() => URL} packagedUrl where the .wasm ships beside the glue (the glue's `new URL(…, import.meta.url)`, which bundlers rewrite)
 * @returns {Promise<{ instance: WebAssembly.Instance, module: WebAssembly.Module }>}
 */
export async function loadWasm(input, imports, packagedUrl) {
  /** @type {any} */
  let source = await input;
  if (source !== null && typeof source === "object" && Object.getPrototypeOf(source) === Object.prototype) {
    source = await source.module_or_path;
  }
  source ??= packagedUrl();
  if (typeof source === "string" || source instanceof URL || (typeof Request === "function" && source instanceof Request)) {
    const href = String(/** @type {any} */ (source).url ?? source);
    // Node.js 20.16+ and 22.3+: a built-in module without an `import` a
    // bundler would follow; Node's fetch() has no `file:` URLs.
    /** @type {{ readFileSync(path: URL): Uint8Array } | undefined} */
    const fs = href.startsWith("file:") ? /** @type {any} */ (globalThis).process?.getBuiltinModule?.("fs") : undefined;
    source = fs ? fs.readFileSync(new URL(href)) : await bytesOf(fetch(source), href);
  } else if (typeof Response === "function" && source instanceof Response) {
    source = await bytesOf(source, source.url);
  }
  const result = await WebAssembly.instantiate(source, imports);
  return result instanceof WebAssembly.Instance ? { instance: result, module: source } : result;
}
