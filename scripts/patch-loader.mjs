// Gives the glue that wasm-bindgen generates (pkg/resocket.js, before it is
// bundled) resocket's own loader and a constructor that says what is missing:
// - `init()` loads the .wasm through src/browser/loader.js (clear errors, the
//   Vite pre-bundling fallback, `file:` URLs in Node.js); the generated
//   loader and its deprecation warnings go;
// - `new WebSocketTransport()` before `init()` throws "call await init()
//   first" instead of "Cannot read properties of undefined";
// - `createTransport(options)` does both: the one call an app needs.
// Like guard-freed.mjs it fails loudly if the glue does not look as expected
// (wasm-bindgen is pinned exactly in Cargo.toml).
import { readFileSync, writeFileSync } from "node:fs";

const [gluePath] = process.argv.slice(2);
let glue = readFileSync(gluePath, "utf8");

function rewrite(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, replacement);
  if (glue === before) throw new Error(`patch-loader: the glue has no ${what}`);
}

rewrite(/^/, 'import { loadWasm } from "../src/browser/loader.js";\n', "start");
rewrite(/async function __wbg_load\([\s\S]*?\n}\n\n(?=function initSync)/, "", "__wbg_load");
rewrite(
  /(function initSync\(module\) \{\s*if \(wasm !== undefined\) return wasm;\s*)if \(module !== undefined\) \{[\s\S]*?\n    }\n/,
  "$1if (module !== undefined && Object.getPrototypeOf(module) === Object.prototype) ({ module } = module);\n",
  "initSync's parameter handling",
);
rewrite(
  /async function __wbg_init_once\(module_or_path\) \{[\s\S]*?\n}\n/,
  `async function __wbg_init_once(module_or_path) {
    // The URL stays in this form, here, so that bundlers find and emit the file.
    const { instance, module } = await loadWasm(module_or_path, __wbg_get_imports(), () => new URL('resocket_bg.wasm', import.meta.url));
    return __wbg_finalize_init(instance, module);
}
`,
  "__wbg_init_once",
);
rewrite(
  /(constructor\(options\) \{\n)/,
  `$1        if (wasm === undefined) throw new Error("resocket: call await init() first");\n`,
  "WebSocketTransport constructor",
);
rewrite(
  /export \{ initSync, __wbg_init as default \};/,
  `/** Loads the .wasm (once) and creates a transport: \`init()\` and \`new WebSocketTransport(options)\` in one call. */
export async function createTransport(options) {
    await __wbg_init();
    return new WebSocketTransport(options);
}

$&`,
  "export list",
);
writeFileSync(gluePath, glue);
console.log("    init() through src/browser/loader.js; constructor before init() and createTransport() explained");
