// The bundler matrix: the packed package (`npm pack` of pkg/, installed as an
// app installs it) in apps with no configuration at all, each in headless
// Chromium against a resocket-server of its own: it must connect, echo, have
// its message acknowledged, and open exactly one socket under StrictMode;
// the Vite and Next.js apps do it again with resocket/shared (`?share=`),
// which resocket/react loads only then.
// - Vite 5, 6, 7 and 8: the dev server (5–7 pre-bundle the glue away from its
//   .wasm: the loader's fallback must find it) and `vite build` + `vite preview`;
// - Next.js 15 and 16, Turbopack and webpack: `next dev` and `next build` +
//   `next start` (the page is server-rendered: importing resocket on the
//   server must touch no browser API);
// - plain ESM: a page with an import map and `<script type=module>`, and a
//   module Worker holding the transport;
// - Node.js 20 (--experimental-websocket) and 22, both from the npm registry:
//   `init()` with no argument.
// The apps live in e2e/bundlers/: vite-app/, next-app/ and node-app/ are the
// sources, copied into each version's folder (its package.json pins that
// version; node_modules is installed once and kept).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ROOT, freePort, json, launchChromium, screenshot, startServer } from "./support.mjs";

const run = promisify(execFile);
const BUNDLERS = join(ROOT, "e2e/bundlers");
const ECHO_TEXT = "hello from the bundle";

let tarball;
let browser;

before(async () => {
  const destination = mkdtempSync(join(tmpdir(), "resocket-pack-"));
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", destination], { cwd: join(ROOT, "pkg") });
  tarball = join(destination, stdout.trim().split("\n").at(-1));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** npm ci (or install, for Next's platform-specific SWC builds) when node_modules is older than the lockfile. */
async function installPinned(dir, command = "ci") {
  const stamp = join(dir, "node_modules/.package-lock.json");
  if (!(existsSync(stamp) && statSync(stamp).mtimeMs > statSync(join(dir, "package-lock.json")).mtimeMs)) {
    await run("npm", [command, "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, maxBuffer: 1 << 24 });
  }
}

/** The app's sources and the freshly packed resocket, installed as an app installs a tarball. */
async function prepare(name, source, installCommand) {
  const dir = join(BUNDLERS, name);
  if (source) {
    for (const entry of readdirSync(join(BUNDLERS, source))) {
      rmSync(join(dir, entry), { recursive: true, force: true });
      cpSync(join(BUNDLERS, source, entry), join(dir, entry), { recursive: true });
    }
  }
  if (existsSync(join(dir, "package-lock.json"))) await installPinned(dir, installCommand);
  await run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", tarball], {
    cwd: dir,
    maxBuffer: 1 << 24,
  });
  return dir;
}

/** Runs a dev or production server until `stop()`; its output is kept for a failure message. */
function startApp(dir, command, args, env = {}) {
  const child = spawn(command, args, {
    cwd: dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", BROWSER: "none", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return {
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        process.kill(-child.pid, "SIGTERM"); // the whole group: next spawns workers
      }),
  };
}

async function buildApp(dir, command, args) {
  try {
    await run(command, args, { cwd: dir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, maxBuffer: 1 << 26 });
  } catch (error) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

/**
 * Opens the app against a server of its own; resolves once the probe shows
 * the echo acknowledged, and checks what the server saw.
 */
async function probeApp(appUrl, name, app, afterEcho, { share = "" } = {}) {
  const server = await startServer([]);
  const page = await browser.newPage();
  const pageErrors = [];
  const wasmResponses = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("response", (response) => {
    if (/resocket(_shared)?_bg/.test(response.url())) {
      wasmResponses.push(`${response.status()} ${response.headers()["content-type"]} ${new URL(response.url()).pathname}`);
    }
  });
  try {
    const separator = appUrl.endsWith(".html") ? "" : "/";
    const shared = share ? `&share=${share}` : "";
    const target = `${appUrl}${separator}?server=${encodeURIComponent(server.url.replace(/^http/, "ws") + "/ws")}${shared}`;
    // A dev server compiles on the first request: keep asking until it answers.
    for (let tries = 0; ; tries++) {
      try {
        const response = await page.goto(target, { timeout: 120_000 });
        if (response?.ok()) break;
        throw new Error(`HTTP ${response?.status()}`);
      } catch (error) {
        if (tries > 300) throw new Error(`${appUrl} never answered: ${error.message}\n${app?.output() ?? ""}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const probe = page.locator("#probe");
    await page
      .waitForFunction(
        (text) => {
          const element = document.getElementById("probe");
          return (
            element?.dataset.error ||
            (element?.dataset.delivery === "acknowledged" && element.dataset.echo.includes(text))
          );
        },
        ECHO_TEXT,
        { timeout: 120_000 },
      )
      .catch(async (error) => {
        const attributes = await probe.evaluate((element) => ({ ...element.dataset })).catch(() => ({}));
        throw new Error(
          `${name}: ${error.message}; probe ${JSON.stringify(attributes)}; .wasm ${JSON.stringify(wasmResponses)}\n${app?.output().slice(-4000) ?? ""}`,
        );
      });
    assert.equal(await probe.getAttribute("data-error"), "", `${name}: the transport failed to start`);
    assert.equal(await probe.getAttribute("data-state"), "connected");
    assert.match(await probe.getAttribute("data-echo"), new RegExp(ECHO_TEXT));
    assert.equal(await probe.getAttribute("data-delivery"), "acknowledged");
    if (share) {
      // resocket/shared came through the bundler: its transport, and its .wasm.
      assert.equal(await probe.getAttribute("data-leader"), "true", `${name}: the shared transport leads its one tab`);
      assert.ok(wasmResponses.some((response) => / 200 application\/wasm .*resocket_shared_bg/.test(` ${response}`)), `${name}: ${wasmResponses}`);
    }
    await screenshot(page, `bundler-${name.replace(/\W+/g, "-")}`);
    const health = await json(`${server.url}/health`);
    assert.equal(health.websocket.accepted, 1, `${name}: one socket, even under StrictMode's double effects`);
    assert.equal(health.websocket.connections, 1);
    await afterEcho?.(page, server);
    assert.deepEqual(pageErrors, [], `${name}: errors on the page`);
    return { wasmResponses };
  } finally {
    await page.close();
    await server.stop();
  }
}

/**
 * Fast Refresh: edits the probe's source while `next dev` runs. React keeps
 * the component's state (with Next 15 and 16 the transport survives the
 * edit); whatever it re-runs, the page must go on with one socket, and a
 * leaked transport would keep a second one open (the loop would never end).
 */
function hotReload(dir) {
  return async (page, server) => {
    const source = join(dir, "app/EchoProbe.jsx");
    writeFileSync(source, readFileSync(source, "utf8").replace('const REVISION = "1";', 'const REVISION = "2";'));
    await page.locator('#probe[data-revision="2"]').waitFor({ state: "attached", timeout: 60_000 });
    await page.locator('#probe[data-state="connected"]').waitFor({ state: "attached", timeout: 30_000 });
    // A leaked transport would keep its socket open: this would never end.
    while ((await json(`${server.url}/health`)).websocket.connections !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
}

for (const major of [5, 6, 7, 8]) {
  describe(`Vite ${major}, no vite.config`, { concurrency: false }, () => {
    let dir;
    before(async () => {
      dir = await prepare(`vite${major}`, "vite-app");
      rmSync(join(dir, "node_modules/.vite"), { recursive: true, force: true });
    });

    test(`Vite ${major}: the dev server`, { timeout: 300_000 }, async () => {
      const port = await freePort();
      const app = startApp(dir, "node_modules/.bin/vite", ["--port", String(port), "--strictPort", "--host", "127.0.0.1"]);
      try {
        const { wasmResponses } = await probeApp(`http://127.0.0.1:${port}`, `Vite ${major} dev`, app);
        assert.match(wasmResponses.at(-1), /^200 application\/wasm /, "the .wasm came from the package");
        await probeApp(`http://127.0.0.1:${port}`, `Vite ${major} dev, shared`, app, undefined, { share: "probe" });
      } finally {
        await app.stop();
      }
    });

    test(`Vite ${major}: vite build, served by vite preview`, { timeout: 300_000 }, async () => {
      await buildApp(dir, "node_modules/.bin/vite", ["build", "--logLevel", "warn"]);
      const port = await freePort();
      const app = startApp(dir, "node_modules/.bin/vite", ["preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"]);
      try {
        await probeApp(`http://127.0.0.1:${port}`, `Vite ${major} build`, app);
        await probeApp(`http://127.0.0.1:${port}`, `Vite ${major} build, shared`, app, undefined, { share: "probe" });
      } finally {
        await app.stop();
      }
    });
  });
}

// Next 15 bundles with webpack unless told `--turbopack`; Next 16 with
// Turbopack unless told `--webpack`.
const NEXT = [
  { major: 15, turbopack: ["--turbopack"], webpack: [] },
  { major: 16, turbopack: [], webpack: ["--webpack"] },
];
for (const { major, ...flags } of NEXT) {
  describe(`Next.js ${major}, no next.config`, { concurrency: false }, () => {
    let dir;
    before(async () => {
      // `npm install`: the lockfile lists Next's SWC compiler for Linux only.
      dir = await prepare(`next${major}`, "next-app", "install");
    });

    for (const bundler of ["turbopack", "webpack"]) {
      test(`Next.js ${major} (${bundler}): next dev`, { timeout: 300_000 }, async () => {
        rmSync(join(dir, ".next"), { recursive: true, force: true });
        const port = await freePort();
        const app = startApp(dir, "node_modules/.bin/next", ["dev", ...flags[bundler], "-p", String(port), "-H", "127.0.0.1"]);
        try {
          await probeApp(`http://127.0.0.1:${port}`, `Next.js ${major} ${bundler} dev`, app, hotReload(dir));
          await probeApp(`http://127.0.0.1:${port}`, `Next.js ${major} ${bundler} dev, shared`, app, undefined, { share: "probe" });
        } finally {
          await app.stop();
        }
      });

      test(`Next.js ${major} (${bundler}): next build, served by next start`, { timeout: 400_000 }, async () => {
        rmSync(join(dir, ".next"), { recursive: true, force: true });
        await buildApp(dir, "node_modules/.bin/next", ["build", ...flags[bundler]]);
        const port = await freePort();
        const app = startApp(dir, "node_modules/.bin/next", ["start", "-p", String(port), "-H", "127.0.0.1"]);
        try {
          await probeApp(`http://127.0.0.1:${port}`, `Next.js ${major} ${bundler} build`, app);
          await probeApp(`http://127.0.0.1:${port}`, `Next.js ${major} ${bundler} build, shared`, app, undefined, { share: "probe" });
        } finally {
          await app.stop();
        }
      });
    }
  });
}

test("plain ESM: <script type=module> and an import map, no bundler", { timeout: 120_000 }, async () => {
  const dir = await prepare("plain");
  const site = await startServer(["--static-dir", dir]);
  try {
    await probeApp(site.url, "plain ESM");
  } finally {
    await site.stop();
  }
});

test("plain ESM in a module Worker: the transport off the main thread", { timeout: 120_000 }, async () => {
  const dir = await prepare("plain");
  const site = await startServer(["--static-dir", dir]);
  try {
    await probeApp(`${site.url}/worker.html`, "module worker");
  } finally {
    await site.stop();
  }
});

describe("Node.js: init() with no argument", { concurrency: false }, () => {
  let dir;
  before(async () => {
    dir = await prepare("node", "node-app");
  });

  const echoes = async (node, flags) => {
    const server = await startServer([]);
    try {
      const wsUrl = `${server.url.replace(/^http/, "ws")}/ws`;
      const { stdout } = await run(node, [...flags, "echo.mjs", wsUrl], { cwd: dir, timeout: 60_000 });
      const result = JSON.parse(stdout.trim().split("\n").at(-1));
      assert.equal(result.state, "connected");
      assert.equal(result.reply.type, "message");
      assert.equal(result.reply.data.text, `hello from node ${result.node}`);
      assert.equal(result.reply.replyTo, result.id, "the echo answers the acknowledged message");
      assert.deepEqual(result.errors, []);
      assert.equal(typeof result.latencyMs, "number", "the first ping goes out on open");
      return result.node;
    } finally {
      await server.stop();
    }
  };

  // Both binaries come pinned from the npm registry (e2e/bundlers/node/), so
  // the legs do not depend on the node that runs the tests.
  test("Node.js 20 with --experimental-websocket", { timeout: 90_000 }, async () => {
    const version = await echoes(join(dir, "node_modules/node20/bin/node"), ["--experimental-websocket"]);
    assert.match(version, /^20\./);
  });

  test("Node.js 22, as is", { timeout: 90_000 }, async () => {
    const version = await echoes(join(dir, "node_modules/node22/bin/node"), []);
    assert.match(version, /^22\./);
  });
});
