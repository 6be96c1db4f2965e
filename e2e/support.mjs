// Shared by the end-to-end tests: the resocket server on a free loopback port,
// and Debian's Chromium driven by playwright-core (its own browser download
// does not work on these machines).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { WebSocketServer } from "ws";

export const ROOT = new URL("..", import.meta.url).pathname;
export const ARTIFACTS = `${ROOT}artifacts`;

// What every test server runs with: the control endpoints (tests drive
// faults and read session logs through them) and pages from any loopback port
// (the Vite and Next.js dev servers, the wasm test runner). Limits stay at
// their defaults, so the tests show they do not get in a real client's way.
export const TEST_SERVER_FLAGS = [
  "--enable-control",
  "--allow-origin",
  "http://127.0.0.1:*",
  "--allow-origin",
  "http://localhost:*",
];

// A free loopback port, for a server that must be told which one to use.
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// A `ws` server on a free loopback port (`options` go to `ws` too) that
// hands each socket to `onConnection(socket, request)`: the servers written
// without knowledge of resocket. Resolves to { url, close }.
export function startWsServer(onConnection, options = {}) {
  return new Promise((resolve) => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, ...options });
    server.on("connection", onConnection);
    server.on("listening", () =>
      resolve({ url: `ws://127.0.0.1:${server.address().port}/`, close: () => new Promise((done) => server.close(done)) }),
    );
  });
}

// Starts target/debug/resocket-server with `args`; resolves to { url, stop }.
export function startServer(args) {
  return startListening(`${ROOT}target/debug/resocket-server`, ["--port", "0", ...TEST_SERVER_FLAGS, ...args]);
}

// Starts the Node server of examples/node-server (written from PROTOCOL.md).
export function startNodeServer() {
  return startListening(process.execPath, [`${ROOT}examples/node-server/server.mjs`, "--port", "0"]);
}

// Runs a server that prints "listening on http://HOST:PORT" first; resolves
// to { url, stop } (also used by bench/run.mjs).
export function startListening(command, args) {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start within 10 s")), 10_000);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const url = line.replace(/^listening on /, "");
      const stop = () =>
        new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once("exit", done);
          child.kill("SIGTERM");
        });
      resolve({ url, stop });
    });
  });
}

// `extraArgs`: more Chromium flags (the benchmark exposes gc, for example).
export async function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

// Saves a screenshot under artifacts/ and returns its size in bytes.
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const image = await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
  return image.length;
}

export async function json(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${url}: HTTP ${response.status}`);
  return response.json();
}
