// Size-only rewrites of the glue wasm-bindgen generates (pkg/resocket.js,
// before esbuild bundles it), each measured with gzip -9 on the bundled file:
// - the bridge.js functions the .wasm calls are imported by name and handed
//   to it as one object literal, where the glue imports the whole snippet as
//   a namespace seven times (esbuild then writes a getter per export);
// - the TextEncoder.encodeInto polyfill and the stand-ins for a missing
//   FinalizationRegistry go: every browser and Node.js version the package
//   supports has both.
// It fails loudly if the glue does not look as expected (wasm-bindgen is
// pinned exactly in Cargo.toml).
import { readFileSync, writeFileSync } from "node:fs";

const [gluePath, wasmPath] = process.argv.slice(2);
let glue = readFileSync(gluePath, "utf8");
// The bridge.js functions the .wasm calls directly (module "b" after
// shorten-names.mjs); the others are reached through the glue's own shims.
const bridgeImports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)))
  .filter((entry) => entry.module === "b")
  .map((entry) => entry.name);

function rewrite(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, replacement);
  if (glue === before) throw new Error(`slim-glue: the glue has no ${what}`);
}

const named = glue.match(/^import \{([^}]*)\} from '(\.\/snippets\/[^']*)';$/m);
if (!named) throw new Error("slim-glue: the glue has no named import of the snippet");
const names = [...new Set([...named[1].split(",").map((name) => name.trim()), ...bridgeImports])].sort();
rewrite(named[0], `import { ${names.join(", ")} } from '${named[2]}';`, "named import");
rewrite(/^import \* as import\d+ from "\.\/snippets\/[^"]*"\n/gm, "", "namespace imports of the snippet");
rewrite(/^(\s*"b": )import1,\n(\s*"b": import\d+,\n)*/m, `$1{ ${bridgeImports.join(", ")} },\n`, "snippet in the imports object");
rewrite(/if \(!\('encodeInto' in cachedTextEncoder\)\) \{[\s\S]*?\n\}\n/, "", "encodeInto polyfill");
rewrite(
  /\(typeof FinalizationRegistry === 'undefined'\)\s*\? \{ register: \(\) => \{\}, unregister: \(\) => \{\} \}\s*: (new FinalizationRegistry)/g,
  "$1",
  "FinalizationRegistry fallbacks",
);
writeFileSync(gluePath, glue);
console.log(`    the ${bridgeImports.length} snippet functions the .wasm calls as one object; no encodeInto polyfill`);
