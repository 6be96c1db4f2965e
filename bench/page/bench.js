// The benchmark page: runs itself on load (bench/run.mjs opens it in each
// browser) and POSTs its results back. Clients are interleaved and every
// measurement is repeated for `rounds` rounds, so a slow moment of a shared
// machine hits every client alike.
import { median } from "../report.mjs";
import { CLIENTS, MIN_UPTIME_MS } from "./clients.js";

const config = Object.fromEntries(new URLSearchParams(location.search));
const rounds = Number(config.rounds ?? 5);
const quick = config.quick === "1"; // a smoke run: fewer messages and cycles
const WINDOW = 64; // messages in flight in the throughput runs
const FIRST_DELAY_MS = 100; // every client's first reconnect delay
const PAYLOADS = [
  { key: "text-100B", text: 100, count: 20_000 },
  { key: "text-1KiB", text: 1024, count: 10_000 },
  { key: "text-16KiB", text: 16 * 1024, count: 2_000 },
  { key: "binary-1KiB", binary: 1024, count: 10_000 },
];
const RTT_SAMPLES = quick ? 200 : 1000;
const RECONNECTS_PER_ROUND = quick ? 2 : 5;
const MEMORY_CYCLES = quick ? 100 : 1000;

function log(line) {
  console.log(line);
  fetch("/log", { method: "POST", body: line }).catch(() => {});
}

let sessionCounter = 0;
const session = (client) => `bench-${client.key}-${Date.now()}-${++sessionCounter}`;
const target = (client) => ({ ws: config.ws, socketIo: config.socketIo, session: session(client), firstDelayMs: FIRST_DELAY_MS });

// Main-thread task time so far in ms, where the browser exposes it (Chromium,
// through the driver's DevTools metrics); null elsewhere.
async function taskTimeMs() {
  return typeof window.benchTaskTimeMs === "function" ? window.benchTaskTimeMs() : null;
}

function textOf(length) {
  return "x".repeat(length);
}

// Echo throughput: WINDOW messages in flight, a new one per reply, until
// `count` replies; messages per second over the whole run (after a warm-up).
async function throughput(client, payload) {
  const conn = await client.open(target(client));
  const count = quick ? Math.ceil(payload.count / 10) : payload.count;
  const data = payload.text ? textOf(payload.text) : null;
  const send = payload.text ? () => conn.sendEnvelope(data) : () => conn.sendBinary(new ArrayBuffer(payload.binary));
  const run = (total) =>
    new Promise((resolve) => {
      let sent = 0;
      let received = 0;
      conn.onMessage = () => {
        received += 1;
        if (received === total) return resolve();
        if (sent < total) {
          sent += 1;
          send();
        }
      };
      for (; sent < Math.min(WINDOW, total); sent++) send();
    });
  await run(Math.min(500, count)); // warm-up: JIT, buffers
  const taskBefore = await taskTimeMs();
  const started = performance.now();
  await run(count);
  const elapsed = performance.now() - started;
  const taskAfter = await taskTimeMs();
  await conn.close();
  return {
    perSecond: count / (elapsed / 1000),
    taskUsPerMessage: taskBefore === null ? null : ((taskAfter - taskBefore) * 1000) / count,
  };
}

// Round trip with one message in flight: p50 and p99 over RTT_SAMPLES.
async function roundTrips(client) {
  const conn = await client.open(target(client));
  const samples = [];
  const data = textOf(100);
  for (let i = 0; i < RTT_SAMPLES + 50; i++) {
    const started = performance.now();
    await new Promise((resolve) => {
      conn.onMessage = resolve;
      conn.sendEnvelope(data);
    });
    if (i >= 50) samples.push(performance.now() - started);
  }
  await conn.close();
  return samples;
}

// Reconnect: the server drops the connection (no close frame) and accepts
// again at once; time from the client's close to its next open, with the
// first backoff delay set to FIRST_DELAY_MS for everyone.
async function reconnects(client) {
  const times = [];
  const t = target(client);
  const conn = await client.open(t);
  for (let i = 0; i < RECONNECTS_PER_ROUND; i++) {
    const reopened = new Promise((resolve) => (conn.onReopen = resolve));
    const dropped = performance.now();
    const drop = client.otherServer ? `${config.socketIo}/drop?session_id=${t.session}` : `${config.control}/control/${t.session}/drop`;
    const answer = await fetch(drop, { method: "POST" });
    if (!answer.ok) throw new Error(`${drop}: HTTP ${answer.status}`);
    await reopened;
    times.push(performance.now() - dropped);
    // Stay up past minUptime, so the next drop meets the first delay again.
    await new Promise((resolve) => setTimeout(resolve, MIN_UPTIME_MS + 100));
  }
  await conn.close();
  return times;
}

// Memory after MEMORY_CYCLES connect/close cycles: the JS heap (Chromium,
// after a forced GC) and, for resocket, the wasm memory.
async function memory(client) {
  // performance.memory is refreshed lazily: collect, let it catch up, read.
  const heap = async () => {
    if (!performance.memory) return null;
    window.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 250));
    window.gc?.();
    return performance.memory.usedJSHeapSize;
  };
  const cycles = async () => {
    for (let i = 0; i < MEMORY_CYCLES; i++) {
      const conn = await client.open(target(client));
      await conn.close();
    }
  };
  const before = await heap();
  const wasmBefore = await wasmMemoryBytes();
  await cycles();
  const after = await heap();
  // A second block tells a one-time cost (compiled code, caches, the first
  // growth of a table) from a leak, which keeps adding the same again.
  await cycles();
  const afterSecond = await heap();
  return {
    cycles: MEMORY_CYCLES,
    heapBeforeBytes: before,
    heapAfterBytes: after,
    heapAfterSecondBytes: afterSecond,
    wasmBeforeBytes: client.key === "resocket" ? wasmBefore : null,
    wasmAfterBytes: client.key === "resocket" ? await wasmMemoryBytes() : null,
  };
}

let wasmExports = null;

async function wasmMemoryBytes() {
  return wasmExports ? wasmExports.memory.buffer.byteLength : null;
}

// resocket only: compile (median of 5, from bytes already fetched) and the
// first init() (compile + instantiate + glue), as an app pays it once.
async function wasmStartup() {
  const bytes = await (await fetch("/pkg/resocket_bg.wasm")).arrayBuffer();
  const compiles = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await WebAssembly.compile(bytes);
    compiles.push(performance.now() - started);
  }
  const { default: init } = await import("/pkg/resocket.js");
  const started = performance.now();
  wasmExports = await init({ module_or_path: bytes });
  const initMs = performance.now() - started;
  return { compileMs: median(compiles), initMs };
}

// Time to the first message after a page load (bench/page/first.js), each
// client in a fresh iframe: its own fetch, compile, connect and echo.
function firstMessage(client) {
  const query = new URLSearchParams({ client: client.key, ws: config.ws, socketIo: config.socketIo, session: session(client) });
  if (client.key === "resocket-baseline") return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const frame = document.createElement("iframe");
    const done = (event) => {
      if (event.source !== frame.contentWindow) return;
      window.removeEventListener("message", done);
      frame.remove();
      if (event.data.error) reject(new Error(event.data.error));
      else resolve(event.data.firstMessageMs);
    };
    window.addEventListener("message", done);
    frame.src = `/first.html?${query}`;
    document.body.append(frame);
  });
}

async function main() {
  const results = {
    browser: navigator.userAgent,
    crossOriginIsolated: window.crossOriginIsolated,
    config: { rounds, window: WINDOW, firstDelayMs: FIRST_DELAY_MS, rttSamples: RTT_SAMPLES, quick },
    startup: await wasmStartup(),
    clients: Object.fromEntries(
      CLIENTS.map((client) => [
        client.key,
        { name: client.name, otherServer: Boolean(client.otherServer), throughput: {}, taskUsPerMessage: {}, rtt: [], reconnectMs: [], firstMessageMs: [] },
      ]),
    ),
  };
  for (let round = 0; round < rounds; round++) {
    // Rotate the order every round so no client always goes first.
    const order = CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length]);
    for (const payload of PAYLOADS) {
      for (const client of order) {
        const { perSecond, taskUsPerMessage } = await throughput(client, payload);
        const entry = results.clients[client.key];
        (entry.throughput[payload.key] ??= []).push(perSecond);
        (entry.taskUsPerMessage[payload.key] ??= []).push(taskUsPerMessage);
      }
    }
    for (const client of order) results.clients[client.key].rtt.push(...(await roundTrips(client)));
    for (const client of order) results.clients[client.key].reconnectMs.push(...(await reconnects(client)));
    for (const client of order) results.clients[client.key].firstMessageMs.push(await firstMessage(client));
    log(`round ${round + 1}/${rounds} done`);
  }
  for (const client of CLIENTS) {
    results.clients[client.key].memory = await memory(client);
    log(`memory: ${client.name} done`);
  }
  await fetch("/results", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(results) });
  log("done");
}

main().catch((error) => {
  log(`failed: ${error.stack ?? error}`);
  fetch("/results", { method: "POST", body: JSON.stringify({ error: String(error.stack ?? error) }) });
});
