// Makes a freed transport fail as the README promises, in the glue that
// wasm-bindgen generates (pkg/resocket.js, before it is minified):
// - `free()` (and `[Symbol.dispose]()`) is idempotent: a second call does
//   nothing, where the generated one throws "null pointer passed to rust".
// - `free()` from inside a listener, while a method of the same transport is
//   running (send, disconnect …), works: the Rust object is dropped when that
//   method returns (wasm-bindgen's delayed drop, the one its finalizer uses),
//   where the generated one throws "attempted to take ownership of Rust value
//   while it was borrowed".
// - Any other method or getter after `free()` throws an Error that says the
//   transport was freed, instead of "null pointer passed to rust".
// It fails loudly if the glue does not look as expected (wasm-bindgen is
// pinned exactly in Cargo.toml), rather than ship an unguarded package.
import { readFileSync, writeFileSync } from "node:fs";

const [gluePath] = process.argv.slice(2);
let glue = readFileSync(gluePath, "utf8");

function rewrite(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, replacement);
  if (glue === before) throw new Error(`guard-freed: the glue has no ${what}`);
}

rewrite(
  /(free\(\) \{\s*const ptr = this\.__destroy_into_raw\(\);\s*)(wasm\.__wbg_websockettransport_free\(ptr), 0\);/,
  "$1if (ptr) $2, 1);",
  "WebSocketTransport.free()",
);
rewrite(
  /(__wbindgen_throw_[0-9a-f]+: function\(arg0, arg1\) \{\s*)throw new Error\(getStringFromWasm0\(arg0, arg1\)\);/,
  `$1const message = getStringFromWasm0(arg0, arg1);
            throw new Error(message === "null pointer passed to rust"
                ? "resocket: this transport was freed (free() or [Symbol.dispose]()); create a new one"
                : message);`,
  "__wbindgen_throw import",
);
writeFileSync(gluePath, glue);
console.log("    free() idempotent and safe in listeners; use after free() names itself");
