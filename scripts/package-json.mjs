// Writes pkg/package.json for the npm package, from Cargo.toml's [package]:
// `exports` with types, the files, React as an optional peer. Run by
// scripts/build-pkg.
import { readFileSync, writeFileSync, existsSync } from "node:fs";

// Name, version, description and the rest come from Cargo.toml's [package].
const cargo = readFileSync("Cargo.toml", "utf8").split(/^\[/m).find((table) => table.startsWith("package]")) ?? "";
/** @param {string} key */
const field = (key) => cargo.match(new RegExp(`^${key} = (.*)$`, "m"))?.[1];
const generated = {
  version: JSON.parse(field("version") ?? '"0.0.0"'),
  description: JSON.parse(field("description") ?? '""'),
  license: JSON.parse(field("license") ?? '""'),
  repository: { type: "git", url: JSON.parse(field("repository") ?? '""') },
  keywords: JSON.parse(field("keywords") ?? "[]"),
};
const files = ["resocket.js", "resocket.d.ts", "resocket_bg.wasm", "shared.js", "shared.d.ts", "resocket_shared_bg.wasm", "react.js", "react.d.ts", "streams.js", "streams.d.ts", "README.md", "LICENSE"].filter((file) =>
  existsSync(`pkg/${file}`),
);

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
    // Streamed replies assembled (PROTOCOL.md §8), for any framework.
    "./streams": { types: "./streams.d.ts", default: "./streams.js" },
    // One connection for all tabs (`shareAcrossTabs`): the same API over the
    // shared-tabs build of the core, so pages that do not share pay nothing.
    "./shared": { types: "./shared.d.ts", default: "./shared.js" },
    "./resocket_bg.wasm": "./resocket_bg.wasm",
    "./resocket_shared_bg.wasm": "./resocket_shared_bg.wasm",
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
