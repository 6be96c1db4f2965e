// Unit tests of loader.js, the .wasm loader behind `init()`, against a real
// HTTP server on loopback that answers like a dev server does (index.html for
// any unknown path). Run with `node --test src/browser/` (the test command does).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { loadWasm, packageCopyOf } from "./loader.js";

// The smallest valid module exporting something: (func (export "answer") (result i32) i32.const 42).
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07,
  0x0a, 0x01, 0x06, 0x61, 0x6e, 0x73, 0x77, 0x65, 0x72, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
]);
const PAGE = "<!doctype html><title>app</title>";

/** Paths that serve the module; everything else gets the page, as Vite's dev server does. */
const served = new Set(["/node_modules/resocket/resocket_bg.wasm", "/assets/resocket_bg.wasm"]);
const requests = [];
const server = createServer((request, response) => {
  requests.push(request.url);
  if (request.url === "/missing.wasm") {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  } else if (served.has(request.url)) {
    response.writeHead(200, { "content-type": "application/wasm" }).end(MODULE);
  } else {
    response.writeHead(200, { "content-type": "text/html" }).end(PAGE);
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}`;
after(() => server.close());

const answer = async (loaded) => (await loaded).instance.exports.answer();

test("the packaged URL, a path, a Request, a Response, bytes and { module_or_path } all load", async () => {
  const url = new URL("/assets/resocket_bg.wasm", origin);
  assert.equal(await answer(loadWasm(undefined, {}, () => url)), 42);
  assert.equal(await answer(loadWasm(url.href, {}, () => assert.fail("not asked"))), 42);
  assert.equal(await answer(loadWasm(new Request(url), {}, () => assert.fail())), 42);
  assert.equal(await answer(loadWasm(fetch(url), {}, () => assert.fail())), 42);
  assert.equal(await answer(loadWasm(MODULE, {}, () => assert.fail())), 42);
  assert.equal(await answer(loadWasm({ module_or_path: url }, {}, () => assert.fail())), 42);
  assert.equal(await answer(loadWasm({ module_or_path: undefined }, {}, () => url)), 42);
  const compiled = await WebAssembly.compile(MODULE);
  assert.equal(await answer(loadWasm(compiled, {}, () => assert.fail())), 42);
});

test("a dev server's HTML page instead of the module is an error naming the URL, the type and the help", async () => {
  const url = new URL("/assets/elsewhere/resocket_bg.wasm", origin);
  await assert.rejects(loadWasm(undefined, {}, () => url), {
    message: `resocket: could not load resocket_bg.wasm from ${url.href}: got text/html, not WebAssembly — see https://github.com/resocket/resocket#bundlers`,
  });
  await assert.rejects(loadWasm(`${origin}/missing.wasm`, {}, () => url), { message: /from http:.*\/missing\.wasm: HTTP 404 — see/ });
  await assert.rejects(loadWasm("http://127.0.0.1:1/resocket_bg.wasm", {}, () => url), {
    message: /from http:\/\/127\.0\.0\.1:1\/resocket_bg\.wasm: fetch failed — see/,
  });
});

test("Vite 5–7's pre-bundled copy finds the package's own .wasm", async () => {
  assert.equal(
    packageCopyOf("http://localhost:5173/node_modules/.vite/deps/resocket_bg.wasm"),
    "http://localhost:5173/node_modules/resocket/resocket_bg.wasm",
  );
  assert.equal(
    packageCopyOf("http://localhost:5173/node_modules/.vite/deps_temp_1a2b/resocket_bg.wasm?v=3"),
    "http://localhost:5173/node_modules/resocket/resocket_bg.wasm?v=3",
  );
  assert.equal(packageCopyOf("http://localhost:5173/assets/resocket_bg.wasm"), "");
  requests.length = 0;
  const url = new URL("/node_modules/.vite/deps/resocket_bg.wasm", origin);
  assert.equal(await answer(loadWasm(undefined, {}, () => url)), 42);
  assert.deepEqual(requests, ["/node_modules/.vite/deps/resocket_bg.wasm", "/node_modules/resocket/resocket_bg.wasm"]);
  // Neither there: the error names the URL the glue asked for.
  served.delete("/node_modules/resocket/resocket_bg.wasm");
  await assert.rejects(loadWasm(undefined, {}, () => url), {
    message: `resocket: could not load resocket_bg.wasm from ${url.href}: got text/html, not WebAssembly — see https://github.com/resocket/resocket#bundlers`,
  });
});

test("in Node.js a file: URL is read from disk (fetch() has no file: URLs)", async () => {
  const directory = mkdtempSync(join(tmpdir(), "resocket-loader-"));
  writeFileSync(join(directory, "resocket_bg.wasm"), MODULE);
  const url = pathToFileURL(join(directory, "resocket_bg.wasm"));
  assert.equal(await answer(loadWasm(undefined, {}, () => url)), 42);
  assert.equal(await answer(loadWasm(url.href, {}, () => assert.fail())), 42);
});
