// scripts/bench: resocket against the raw browser WebSocket and the JS peers,
// in headless Chromium and headless Firefox ESR, side by side in one run.
//
// One resocket-server (release build) is the echo endpoint for every client
// but socket.io-client, which needs its own server (bench/socketio-server.mjs,
// reported as a different server). The page (bench/page/) runs itself and
// POSTs its results here; Chromium is driven by playwright-core only so the
// page can read DevTools' task-time metric, Firefox is started as a plain
// process. Writes bench/RESULTS.md and bench/results.json and prints the table.
//
// node bench/run.mjs [--rounds N] [--browsers chromium,firefox] [--quick] [--render-only]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { launchChromium, startListening } from "../e2e/support.mjs";
import { QUICK_WARNING, isQuick, renderChart, renderMarkdown } from "./report.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
// DevTools' "Fast 4G"-like profile for the throttled first-message row:
// 150 ms round trip, 9 Mbit/s down.
const THROTTLED = { offline: false, latency: 150, downloadThroughput: (9e6 / 8) | 0, uploadThroughput: (1.5e6 / 8) | 0 };
const BENCH = `${ROOT}bench/`;
const BUILD = `${BENCH}.build/`;
const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    browsers: { type: "string", default: "chromium,firefox" },
    quick: { type: "boolean", default: false },
    // A package built from another commit (scripts/bench --baseline-ref):
    // measured beside pkg/ in the same run, as "resocket (baseline)".
    baseline: { type: "string" },
    // Re-renders bench/RESULTS.md from bench/results.json (after a change to
    // report.mjs) without measuring anything.
    "render-only": { type: "boolean", default: false },
  },
});
if (flags["render-only"]) {
  const saved = JSON.parse(readFileSync(`${BENCH}results.json`, "utf8"));
  writeFileSync(`${BENCH}RESULTS.md`, renderMarkdown(saved));
  writeFileSync(`${BENCH}results.svg`, renderChart(saved));
  console.log(renderMarkdown(saved));
  process.exit(0);
}

if (flags.quick) console.log(QUICK_WARNING);
const sizes = await measureSizes();
await bundlePage();
// Control on (the reconnect row drops connections through it), no rate
// limit (the throughput rows send as fast as a client can).
const echoServer = await startListening(`${ROOT}target/release/resocket-server`, [
  "--port",
  "0",
  "--enable-control",
  "--message-rate",
  "0",
  "--allow-origin",
  "http://127.0.0.1:*",
]);
const socketIoServer = await startListening(process.execPath, [`${BENCH}socketio-server.mjs`, "--port", "0"]);
const page = await servePage();
const runs = {};
try {
  for (const browser of flags.browsers.split(",")) {
    console.log(`\n==> ${browser}`);
    runs[browser] = browser === "chromium" ? await runChromium() : await runFirefox();
  }
} finally {
  page.close();
  await echoServer.stop();
  await socketIoServer.stop();
}

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  sizes,
  runs,
};
// An A/B run is a comparison for a change, not the project's figures.
if (!flags.quick && !flags.baseline) {
  writeFileSync(`${BENCH}results.json`, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(`${BENCH}RESULTS.md`, renderMarkdown(report));
  writeFileSync(`${BENCH}results.svg`, renderChart(report));
}
console.log(`\n${renderMarkdown(report)}`);
if (isQuick(report)) console.log(`\n${QUICK_WARNING}`);
const failed = Object.entries(runs).filter(([, run]) => run.error);
for (const [browser, run] of failed) console.error(`bench: ${browser} failed: ${run.error}`);
process.exit(failed.length ? 1 : 0);

// min+gzip -9 of what a page downloads for each client.
async function measureSizes() {
  const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
  const peers = {
    "reconnecting-websocket": 'export { default } from "reconnecting-websocket";',
    partysocket: 'export { default } from "partysocket/ws";',
    "socket.io-client": 'export { io } from "socket.io-client";',
  };
  const result = {};
  for (const [key, contents] of Object.entries(peers)) {
    const output = await build({
      stdin: { contents, resolveDir: BENCH, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      write: false,
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "error",
    });
    const bytes = output.outputFiles[0].contents;
    result[key] = { minBytes: bytes.length, gzipBytes: gzip(bytes) };
  }
  const wasm = readFileSync(`${ROOT}pkg/resocket_bg.wasm`);
  const glue = readFileSync(`${ROOT}pkg/resocket.js`);
  result.resocket = {
    minBytes: wasm.length + glue.length,
    gzipBytes: gzip(wasm) + gzip(glue),
    wasmGzipBytes: gzip(wasm),
    glueGzipBytes: gzip(glue),
  };
  if (flags.baseline) {
    const baseWasm = readFileSync(`${flags.baseline}/resocket_bg.wasm`);
    const baseGlue = readFileSync(`${flags.baseline}/resocket.js`);
    result["resocket-baseline"] = {
      minBytes: baseWasm.length + baseGlue.length,
      gzipBytes: gzip(baseWasm) + gzip(baseGlue),
      wasmGzipBytes: gzip(baseWasm),
      glueGzipBytes: gzip(baseGlue),
    };
  }
  result.raw = { minBytes: 0, gzipBytes: 0 };
  return result;
}

async function bundlePage() {
  mkdirSync(BUILD, { recursive: true });
  // The first-message page: each client in its own chunk, so a page loads
  // only the client it measures.
  rmSync(`${BUILD}first`, { recursive: true, force: true });
  await build({
    entryPoints: [`${BENCH}page/first.js`],
    bundle: true,
    splitting: true,
    minify: true,
    format: "esm",
    platform: "browser",
    outdir: `${BUILD}first`,
    external: ["/pkg/*"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
  await build({
    entryPoints: [`${BENCH}page/bench.js`],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    outfile: `${BUILD}bench.js`,
    external: ["/pkg/*"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
}

// The page, pkg/, and the two endpoints the page reports to.
function servePage() {
  const waiting = [];
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const files = {
    "/": `${BENCH}page/index.html`,
    "/bench.js": `${BUILD}bench.js`,
    "/first.html": `${BENCH}page/first.html`,
    "/pkg/resocket.js": `${ROOT}pkg/resocket.js`,
    "/pkg/resocket_bg.wasm": `${ROOT}pkg/resocket_bg.wasm`,
    ...(flags.baseline
      ? {
          "/pkg-baseline/resocket.js": `${flags.baseline}/resocket.js`,
          "/pkg-baseline/resocket_bg.wasm": `${flags.baseline}/resocket_bg.wasm`,
        }
      : {}),
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url, "http://localhost").pathname;
    if (request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        response.writeHead(204).end();
        if (path === "/log") console.log(`    ${body}`);
        if (path === "/results") waiting.shift()?.(JSON.parse(body));
      });
      return;
    }
    const file = files[path] ?? (/^\/first\/[\w-]+\.js$/.test(path) ? `${BUILD}${path.slice(1)}` : undefined);
    if (!file || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, {
      "content-type": types[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream",
      "cache-control": "no-store",
      // Cross-origin isolation: browsers then give performance.now() its fine
      // resolution (5 µs in Chromium instead of 100 µs), which RTT needs.
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    response.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: (browser) => {
          const query = new URLSearchParams({
            ws: `${echoServer.url.replace("http", "ws")}/ws`,
            control: echoServer.url,
            socketIo: socketIoServer.url,
            rounds: flags.rounds,
            browser,
            ...(flags.quick ? { quick: "1" } : {}),
            ...(flags.baseline ? { baseline: "1" } : {}),
          });
          return `http://127.0.0.1:${server.address().port}/?${query}`;
        },
        first: (client, session) => {
          const query = new URLSearchParams({ client, ws: `${echoServer.url.replace("http", "ws")}/ws`, socketIo: socketIoServer.url, session });
          return `http://127.0.0.1:${server.address().port}/first.html?${query}`;
        },
        results: () => new Promise((done) => waiting.push(done)),
        close: () => server.close(),
      }),
    ),
  );
}

async function runChromium() {
  const browser = await launchChromium(["--js-flags=--expose-gc", "--enable-precise-memory-info"]);
  try {
    const tab = await browser.newPage();
    const devtools = await tab.context().newCDPSession(tab);
    await devtools.send("Performance.enable");
    // DevTools' TaskDuration: seconds the renderer's main thread spent in tasks.
    await tab.exposeFunction("benchTaskTimeMs", async () => {
      const { metrics } = await devtools.send("Performance.getMetrics");
      return metrics.find((metric) => metric.name === "TaskDuration").value * 1000;
    });
    const results = page.results();
    await tab.goto(page.url("chromium"));
    const run = await results;
    if (!run.error) {
      try {
        run.firstMessageThrottledMs = await firstMessagesThrottled(browser, Object.keys(run.clients));
      } catch (error) {
        // The page's figures stand without this row.
        console.error(`bench: the throttled first-message row failed: ${error.stack ?? error}`);
      }
    }
    return { ...run, version: browser.version() };
  } finally {
    await browser.close();
  }
}

// Time to the first message over a throttled network (Chromium only: it can
// throttle through DevTools): each client in a fresh context (nothing cached),
// interleaved round by round.
async function firstMessagesThrottled(browser, keys) {
  const times = Object.fromEntries(keys.map((key) => [key, []]));
  const rounds = flags.quick ? 1 : Number(flags.rounds);
  for (let round = 0; round < rounds; round++) {
    for (const key of keys.filter((key) => key !== "resocket-baseline")) {
      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        const devtools = await context.newCDPSession(tab);
        await devtools.send("Network.enable");
        await devtools.send("Network.emulateNetworkConditions", THROTTLED);
        await tab.goto(page.first(key, `bench-first-${key}-${Date.now()}`));
        times[key].push(await tab.waitForFunction(() => window.firstMessageMs, undefined, { timeout: 60_000 }).then((handle) => handle.jsonValue()));
      } finally {
        await context.close();
      }
    }
  }
  return times;
}

async function runFirefox() {
  const profile = mkdtempSync(join(tmpdir(), "resocket-bench-firefox-"));
  // A quiet profile: no first-run pages, no telemetry, no update checks.
  writeFileSync(
    join(profile, "user.js"),
    [
      'user_pref("browser.shell.checkDefaultBrowser", false);',
      'user_pref("browser.startup.homepage_override.mstone", "ignore");',
      'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
      'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
      'user_pref("app.update.enabled", false);',
      'user_pref("browser.aboutwelcome.enabled", false);',
      // performance.now() at full resolution (Firefox rounds it to 1 ms
      // otherwise, which makes a 0.3 ms round trip read as 0 or 1).
      'user_pref("privacy.reduceTimerPrecision", false);',
    ].join("\n"),
  );
  const version = await new Promise((resolve) => {
    const child = spawn("firefox-esr", ["--version"]);
    let text = "";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.on("exit", () => resolve(text.trim()));
  });
  const results = page.results();
  const child = spawn("firefox-esr", ["--headless", "--no-remote", "--profile", profile, page.url("firefox")], { stdio: "ignore" });
  try {
    const run = await Promise.race([
      results,
      new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`firefox exited with ${code}`)))),
    ]);
    return { ...run, version };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    rmSync(profile, { recursive: true, force: true });
  }
}
