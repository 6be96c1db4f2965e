// Writes pkg/package.json for the npm package: wasm-pack's generated one lacks
// `exports` (with types), lists files the bundled build no longer has, and
// marks snippet files as side effects. Run by scripts/build-pkg.
import { readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";

const generated = JSON.parse(readFileSync("pkg/package.json", "utf8"));
const files = ["resocket.js", "resocket.d.ts", "resocket_bg.wasm", "react.js", "react.d.ts", "README.md", "LICENSE"].filter((file) =>
  existsSync(`pkg/${file}`),
);
// Only the wasm-bindgen export table, not needed by users.
rmSync("pkg/resocket_bg.wasm.d.ts", { force: true });

const manifest = {
  name: "resocket",
  version: generated.version,
  description: generated.description,
  license: generated.license,
  repository: generated.repository,
  keywords: generated.keywords,
  type: "module",
  main: "./resocket.js",
  module: "./resocket.js",
  types: "./resocket.d.ts",
  exports: {
    ".": { types: "./resocket.d.ts", default: "./resocket.js" },
    // React hooks, in their own module: importing "resocket" never loads React.
    "./react": { types: "./react.d.ts", default: "./react.js" },
    "./resocket_bg.wasm": "./resocket_bg.wasm",
    "./package.json": "./package.json",
  },
  files,
  // Only resocket/react uses React (useSyncExternalStore: 18 or later).
  peerDependencies: { react: ">=18" },
  peerDependenciesMeta: { react: { optional: true } },
  // Importing has no side effects: nothing runs until init() and `new WebSocketTransport`.
  sideEffects: false,
};
writeFileSync("pkg/package.json", JSON.stringify(manifest, null, 2) + "\n");
console.log(`    pkg/package.json: ${manifest.name}@${manifest.version}, files: ${files.join(", ")}`);
