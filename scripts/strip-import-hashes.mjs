// Shortens wasm-bindgen's import names in pkg/: `__wbg_send_9f1c2b3a4d5e6f70`
// becomes `__wbg_send` in the .wasm import section and in the JS glue alike.
// The 16-hex-digit hashes make names unique across crates; within one package
// they rarely are needed, and being random they are the one thing gzip cannot
// shrink (~100 imports, each named in both files). A name whose short form
// would collide keeps its hash. Run before wasm-opt and esbuild.
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, gluePath] = process.argv.slice(2);
const wasm = readFileSync(wasmPath);
const HASHED = /^(__wbg_.+)_[0-9a-f]{16}$/;

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

// Pass 1: read the import section and decide the renames.
let offset = 8;
let importSection;
while (offset < wasm.length) {
  const id = wasm[offset];
  const [size, start] = readLeb(wasm, offset + 1);
  if (id === 2) importSection = { at: offset, start, end: start + size };
  offset = start + size;
}
if (!importSection) throw new Error(`${wasmPath} has no import section`);

const imports = [];
let at = importSection.start;
const [count, first] = readLeb(wasm, at);
at = first;
for (let i = 0; i < count; i++) {
  const [module, afterModule] = readName(wasm, at);
  const [field, afterField] = readName(wasm, afterModule);
  const end = skipImportDesc(wasm, afterField);
  imports.push({ module, field, desc: wasm.subarray(afterField, end) });
  at = end;
}

const shortCount = new Map();
for (const { field } of imports) {
  const short = HASHED.exec(field)?.[1];
  if (short) shortCount.set(short, (shortCount.get(short) ?? 0) + 1);
}
const renames = new Map();
for (const { field } of imports) {
  const short = HASHED.exec(field)?.[1];
  if (short && shortCount.get(short) === 1 && !imports.some((other) => other.field === short)) {
    renames.set(field, short);
  }
}

// Pass 2: write the new import section and the glue.
const body = Buffer.concat([
  leb(imports.length),
  ...imports.map(({ module, field, desc }) =>
    Buffer.concat([nameBytes(module), nameBytes(renames.get(field) ?? field), desc]),
  ),
]);
writeFileSync(
  wasmPath,
  Buffer.concat([
    wasm.subarray(0, importSection.at),
    Buffer.from([2]),
    leb(body.length),
    body,
    wasm.subarray(importSection.end),
  ]),
);

let glue = readFileSync(gluePath, "utf8");
let replaced = 0;
glue = glue.replace(/__wbg_\w+_[0-9a-f]{16}\b/g, (name) => {
  const short = renames.get(name);
  if (short === undefined) return name;
  replaced++;
  return short;
});
writeFileSync(gluePath, glue);
console.log(`    ${renames.size} of ${imports.length} import names shortened (${replaced} uses in the glue)`);
