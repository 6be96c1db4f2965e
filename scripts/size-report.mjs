#!/usr/bin/env node
// Where the download's bytes go: the .wasm's functions grouped by the Rust
// module they come from, its data and its other sections, and the JS glue by
// source file, each with gzip and brotli estimates. Printed by scripts/build-pkg
// so the next change starts from figures, not from a fresh analysis.
//
//   node scripts/size-report.mjs --named <wasm with a name section, optimised
//     like the shipped one> --wasm <shipped .wasm> --glue <shipped .js>
//     [--metafile <esbuild metafile of the glue>]
//
// A function's share of the compressed size is estimated as its share of the
// raw bytes (compression is not additive); the totals are measured.
import { readFileSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { named: { type: "string" }, wasm: { type: "string" }, glue: { type: "string" }, metafile: { type: "string" } },
});
if (!args.named || !args.wasm || !args.glue) {
  console.error("usage: size-report.mjs --named <named.wasm> --wasm <shipped.wasm> --glue <shipped.js> [--metafile <meta.json>]");
  process.exit(2);
}

/** gzip -9 and brotli (quality 11, what CDNs precompress with) sizes. */
export function compressed(bytes) {
  return {
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** The sections of a wasm module, and its function bodies' sizes by name. */
export function readWasm(bytes) {
  let at = 8;
  const leb = () => {
    let result = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const name = () => {
    const length = leb();
    const text = new TextDecoder().decode(bytes.subarray(at, at + length));
    at += length;
    return text;
  };
  const sections = [];
  let imported = 0;
  const bodies = [];
  const names = new Map();
  while (at < bytes.length) {
    const begin = at;
    const id = bytes[at++];
    const size = leb();
    const start = at;
    let label = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count"][id] ?? `section ${id}`;
    if (id === 0) label = `custom "${name()}"`;
    if (id === 2) {
      for (let count = leb(), i = 0; i < count; i++) {
        name();
        name();
        const kind = bytes[at++];
        if (kind === 0) { leb(); imported++; }
        else if (kind === 1) { at++; const flags = leb(); leb(); if (flags & 1) leb(); }
        else if (kind === 2) { const flags = leb(); leb(); if (flags & 1) leb(); }
        else if (kind === 3) { at += 2; }
      }
    }
    if (id === 10) {
      for (let count = leb(), i = 0; i < count; i++) {
        const bodyStart = at;
        const bodySize = leb();
        at += bodySize;
        bodies.push({ index: imported + i, size: at - bodyStart });
      }
    }
    if (label === 'custom "name"') {
      while (at < start + size) {
        const kind = bytes[at++];
        const end = leb() + at;
        if (kind === 1) for (let count = leb(), i = 0; i < count; i++) names.set(leb(), name());
        at = end;
      }
    }
    at = start + size;
    // The whole section: its id, its size and its contents.
    sections.push({ label, size: at - begin });
  }
  return { sections, functions: bodies.map((body) => ({ ...body, name: names.get(body.index) ?? `function ${body.index}` })) };
}

/**
 * A legacy-mangled Rust symbol (`_ZN8resocket4core…17h…E`) as its path
 * (`resocket::core::…`); other names are returned as they are.
 */
export function demangle(symbol) {
  if (!symbol.startsWith("_ZN")) return symbol;
  const segments = [];
  let at = 3;
  while (at < symbol.length && symbol[at] !== "E") {
    const digits = symbol.slice(at).match(/^\d+/);
    if (!digits) break;
    at += digits[0].length;
    segments.push(symbol.slice(at, at + Number(digits[0])));
    at += Number(digits[0]);
  }
  if (/^h[0-9a-f]{16}$/.test(segments.at(-1) ?? "")) segments.pop();
  const escapes = { SP: "@", BP: "*", RF: "&", LT: "<", GT: ">", LP: "(", RP: ")", C: "," };
  return segments
    .map((segment) =>
      segment
        .replace(/^_\$/, "$")
        .replace(/\$([A-Z]+|u[0-9a-f]+)\$/g, (_, code) => escapes[code] ?? String.fromCodePoint(parseInt(code.slice(1), 16)))
        .replace(/\.\./g, "::"),
    )
    .join("::");
}

/** The module a function belongs to, from its Rust name. */
export function groupOf(symbol) {
  const name = demangle(symbol);
  const path = name.replace(/^[<&\s]+/, "").replace(/^(dyn|impl|mut)\s+/, "");
  let match = path.match(/^resocket::(core|abi)::(\w+)/);
  if (match) return `${match[1]}::${match[2]}`;
  if (/^resocket::/.test(path)) return "lib.rs";
  // The exports, with what the optimiser inlined into them (most of the core).
  if (/^rs_/.test(path)) return "abi exports (with the core inlined)";
  if (/^(wasm_bindgen|js_sys)\b|^__wbg|^__wbindgen|^__externref/.test(path)) return "wasm-bindgen";
  if (/^lol_alloc|^__rust_(alloc|dealloc|realloc)|^__rdl/.test(path)) return "allocator";
  if (/^core::fmt/.test(path)) return "std: formatting";
  if (/^(alloc|core|std|hashbrown)::/.test(path) || /^(memcpy|memset|memmove|memcmp|bcmp)$/.test(path)) return "std: collections, strings, memory";
  return "other";
}

const shipped = readFileSync(args.wasm);
const glue = readFileSync(args.glue);
const named = readWasm(readFileSync(args.named));
const wasmSize = compressed(shipped);
const glueSize = compressed(glue);
const namedTotal = named.sections.reduce((sum, s) => sum + s.size, 0);
const namesSize = named.sections.filter((s) => s.label.startsWith("custom")).reduce((sum, s) => sum + s.size, 0);
const payload = namedTotal - namesSize;

const rows = new Map();
const add = (group, bytes) => rows.set(group, (rows.get(group) ?? 0) + bytes);
for (const f of named.functions) add(`wasm ${groupOf(f.name)}`, f.size);
for (const s of named.sections) {
  if (s.label === "code" || s.label.startsWith("custom")) continue;
  add(s.label === "data" ? "wasm data (strings, tables)" : "wasm sections: imports, exports, types, …", s.size);
}
add("wasm sections: imports, exports, types, …", payload - [...rows.values()].reduce((a, b) => a + b, 0));

const table = [];
const estimate = (bytes, of, total) => Math.round((bytes / of) * total);
for (const [group, bytes] of [...rows].sort((a, b) => b[1] - a[1])) {
  table.push([group, bytes, estimate(bytes, payload, wasmSize.gzip), estimate(bytes, payload, wasmSize.brotli)]);
}
if (args.metafile) {
  const meta = JSON.parse(readFileSync(args.metafile, "utf8"));
  const inputs = Object.values(meta.outputs)[0].inputs;
  const total = Object.values(inputs).reduce((sum, input) => sum + input.bytesInOutput, 0);
  for (const [file, input] of Object.entries(inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) {
    const share = input.bytesInOutput / total;
    const label = `js ${file.replace(/^.*?(src\/browser\/|pkg\/)/, "")}`;
    table.push([label, Math.round(share * glue.length), Math.round(share * glueSize.gzip), Math.round(share * glueSize.brotli)]);
  }
} else {
  table.push(["js glue", glue.length, glueSize.gzip, glueSize.brotli]);
}

const pad = (value, width) => String(value).padStart(width);
console.log(`    ${"where the bytes go (gzip/brotli per row estimated from raw share)".padEnd(46)} ${pad("raw", 7)} ${pad("gzip", 7)} ${pad("brotli", 7)}`);
for (const [label, raw, gz, br] of table) console.log(`    ${label.padEnd(46)} ${pad(raw, 7)} ${pad(gz, 7)} ${pad(br, 7)}`);
console.log(`    ${"total .wasm + glue (measured)".padEnd(46)} ${pad(shipped.length + glue.length, 7)} ${pad(wasmSize.gzip + glueSize.gzip, 7)} ${pad(wasmSize.brotli + glueSize.brotli, 7)}`);
console.log(`    (named build ${payload} bytes without names vs shipped ${shipped.length}; ${named.functions.length} functions)`);
