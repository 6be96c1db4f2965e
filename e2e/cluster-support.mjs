// A cluster on loopback, for the cluster chaos run and the load script:
// Debian's redis-server, resocket-server nodes on it, and HAProxy in front
// (round-robin, no stickiness, /health checks), each on a free port and
// killed with the process group when `stopAll()` runs (or the caller exits).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT, freePort } from "./support.mjs";

const children = new Set();
const work = mkdtempSync(join(tmpdir(), "resocket-cluster-"));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

// The same free-port probe as every test's (the cluster run and
// scripts/cluster-up import it from here).
export { freePort };

async function waitForPort(port, what) {
  for (let tries = 0; tries < 200; tries++) {
    const taken = await new Promise((resolve) => {
      const probe = createServer().listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
      probe.on("error", () => resolve(true));
    });
    if (taken) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

function run(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Debian's redis-server without persistence; resolves to its port. */
export async function startRedis() {
  const port = await freePort();
  run("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await waitForPort(port, "redis-server");
  return port;
}

/**
 * A resocket-server node (target/debug or target/release) on `node.port`
 * with `args` (and `--redis` when `redisPort` is given); sets `node.child`.
 */
export async function startNode(node, { binary = "target/debug/resocket-server", args = [], redisPort } = {}) {
  const all = ["--port", String(node.port), ...args];
  if (redisPort) all.push("--redis", `redis://127.0.0.1:${redisPort}/`);
  const child = run(join(ROOT, binary), all, { cwd: ROOT });
  await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`node ${node.port} exited with ${code}`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  child.removeAllListeners("exit");
  child.on("exit", () => children.delete(child));
  node.child = child;
  node.url = `http://127.0.0.1:${node.port}`;
  return node;
}

/** HAProxy in front of `nodes`: round-robin, no stickiness; resolves to its URL. */
export async function startHaproxy(nodes) {
  const port = await freePort();
  const config = join(work, `haproxy-${port}.cfg`);
  writeFileSync(
    config,
    `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  option redispatch
  retries 2
frontend resocket
  bind 127.0.0.1:${port}
  default_backend nodes
backend nodes
  # Round-robin, no stickiness: every connection may land on any node.
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server inter 300ms fall 1 rise 1
${nodes.map((node, i) => `  server node${i} 127.0.0.1:${node.port} check`).join("\n")}
`,
  );
  run("haproxy", ["-f", config, "-db"]);
  await waitForPort(port, "haproxy");
  return `http://127.0.0.1:${port}`;
}

/** Kills everything started here. */
export function stopAll() {
  for (const child of children) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
