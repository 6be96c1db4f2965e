// Gives every name the .wasm and its JS glue share a short one, in both files:
// import modules (`./resocket_bg.js` → `a`, the bridge.js snippet → `b`), the
// glue's import functions (`__wbg_send_9f1c2b3a4d5e6f70` → `a7`) and the
// module's exports (`websockettransport_send` → `e3`). Within one package
// these names only have to match each other, and each is spelled in both
// files (the random hashes are the one thing gzip cannot shrink). The
// snippet's own function names (bridge.js exports) stay: they are short.
// Run before wasm-opt and esbuild; it fails loudly if the glue does not look
// as expected, rather than write a package whose names do not match.
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, gluePath] = process.argv.slice(2);
const wasm = readFileSync(wasmPath);
const GLUE_MODULE = "./resocket_bg.js";
const SNIPPET_MODULE = /^\.\/snippets\/.+\.js$/;

function readLeb(bytes, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, offset];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

function readName(bytes, offset) {
  const [length, start] = readLeb(bytes, offset);
  return [bytes.toString("utf8", start, start + length), start + length];
}

const nameBytes = (name) => Buffer.concat([leb(Buffer.byteLength(name)), Buffer.from(name)]);

// Skips an import's description (by kind, as the binary format lays it out: func, table,
// memory, global, tag); returns the offset after it.
function skipImportDesc(bytes, offset) {
  const kind = bytes[offset++];
  const skipLimits = (at) => {
    const flags = bytes[at++];
    let [, next] = readLeb(bytes, at);
    if (flags & 1) [, next] = readLeb(bytes, next);
    return next;
  };
  switch (kind) {
    case 0: return readLeb(bytes, offset)[1];
    case 1: return skipLimits(offset + 1);
    case 2: return skipLimits(offset);
    case 3: return offset + 2;
    case 4: return readLeb(bytes, offset + 1)[1];
    default: throw new Error(`unknown import kind ${kind}`);
  }
}

const sections = new Map();
for (let offset = 8; offset < wasm.length; ) {
  const id = wasm[offset];
  const [size, start] = readLeb(wasm, offset + 1);
  if (id === 2 || id === 7) sections.set(id, { at: offset, start, end: start + size });
  offset = start + size;
}
if (!sections.has(2) || !sections.has(7)) throw new Error(`${wasmPath} lacks an import or export section`);

// Imports: module names always; the glue's own functions get short names.
const imports = [];
{
  const { start } = sections.get(2);
  let [count, at] = readLeb(wasm, start);
  for (let i = 0; i < count; i++) {
    const [module, afterModule] = readName(wasm, at);
    const [field, afterField] = readName(wasm, afterModule);
    const end = skipImportDesc(wasm, afterField);
    imports.push({ module, field, desc: wasm.subarray(afterField, end) });
    at = end;
  }
}
const moduleName = (module) => {
  if (module === GLUE_MODULE) return "a";
  if (SNIPPET_MODULE.test(module)) return "b";
  throw new Error(`unexpected import module ${module}`);
};
const importRenames = new Map();
for (const { module, field } of imports) {
  if (module === GLUE_MODULE && !importRenames.has(field)) {
    importRenames.set(field, `a${importRenames.size.toString(36)}`);
  }
}

// Exports: everything but the memory.
const exports = [];
{
  const { start } = sections.get(7);
  let [count, at] = readLeb(wasm, start);
  for (let i = 0; i < count; i++) {
    const [name, afterName] = readName(wasm, at);
    const [, end] = readLeb(wasm, afterName + 1);
    exports.push({ name, desc: wasm.subarray(afterName, end) });
    at = end;
  }
}
const exportRenames = new Map();
for (const { name } of exports) {
  if (name !== "memory") exportRenames.set(name, `e${exportRenames.size.toString(36)}`);
}

const section = (id, entries) => {
  const body = Buffer.concat([leb(entries.length), ...entries]);
  return Buffer.concat([Buffer.from([id]), leb(body.length), body]);
};
const importSection = section(
  2,
  imports.map(({ module, field, desc }) =>
    Buffer.concat([nameBytes(moduleName(module)), nameBytes(importRenames.get(field) ?? field), desc]),
  ),
);
const exportSection = section(
  7,
  exports.map(({ name, desc }) => Buffer.concat([nameBytes(exportRenames.get(name) ?? name), desc])),
);
const imp = sections.get(2);
const exp = sections.get(7);
writeFileSync(
  wasmPath,
  Buffer.concat([
    wasm.subarray(0, imp.at),
    importSection,
    wasm.subarray(imp.end, exp.at),
    exportSection,
    wasm.subarray(exp.end),
  ]),
);

// The glue: `wasm.<export>` uses, `<import>:` keys of its import object, and
// the module keys of the object it hands to WebAssembly.instantiate.
let glue = readFileSync(gluePath, "utf8");
const escape = (name) => name.replace(/[$]/g, "\\$&");
let uses = 0;
const replaceAll = (pattern, replacement, name, required = true) => {
  const before = glue;
  glue = glue.replace(pattern, () => {
    uses++;
    return replacement;
  });
  if (required && glue === before) throw new Error(`the glue never mentions ${name}`);
};
// (An export the glue does not use, such as the abort handler, is renamed all the same.)
for (const [name, short] of exportRenames) {
  replaceAll(new RegExp(`\\bwasm\\.${escape(name)}\\b`, "g"), `wasm.${short}`, name, false);
}
for (const [name, short] of importRenames) {
  replaceAll(new RegExp(`\\b${escape(name)}(?=: function\\b|:)`, "g"), short, name);
}
replaceAll(/"\.\/resocket_bg\.js":/g, '"a":', GLUE_MODULE);
replaceAll(/"\.\/snippets\/[^"]+\.js":/g, '"b":', "the snippet module");
writeFileSync(gluePath, glue);
console.log(
  `    ${importRenames.size} imports and ${exportRenames.size} exports renamed (${uses} uses in the glue)`,
);
