// A small W3C WebDriver client for tests that need several tabs of one
// browser in Chromium, Firefox and WebKit (playwright-core drives only
// Chromium here: its Firefox and WebKit builds cannot be downloaded). It
// starts Debian's chromedriver, the cargo-installed geckodriver (the same
// drivers wasm-pack's browser tests use) or Debian's WebKitWebDriver
// (WebKitGTK, Safari's engine: its MiniBrowser needs a display, so it runs
// under xvfb-run) on a free loopback port.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

import { freePort } from "./support.mjs";

const DRIVERS = {
  chromium: {
    command: () => process.env.CHROMEDRIVER ?? "/usr/bin/chromedriver",
    args: (port) => [`--port=${port}`],
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
      },
    },
  },
  firefox: {
    command: () => process.env.GECKODRIVER ?? `${homedir()}/.cargo/bin/geckodriver`,
    args: (port) => ["--port", String(port), "--host", "127.0.0.1"],
    capabilities: {
      browserName: "firefox",
      "moz:firefoxOptions": { binary: "/usr/bin/firefox-esr", args: ["-headless"] },
    },
  },
  webkit: {
    command: () => "xvfb-run",
    args: (port) => ["--auto-servernum", "WebKitWebDriver", `--port=${port}`],
    capabilities: {
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": {
        binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        args: ["--automation"],
      },
    },
  },
};

/** Stops a driver, and (xvfb-run's) the display and driver it started. */
function stop(child) {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
}

/**
 * A blank page for scripts run in a tab (Firefox shows a JSON answer such as
 * /health in a viewer page of its own), and the package beside it: the
 * server flags that serve it at /blank/index.html and pkg/ at /pkg, and a
 * function that removes its folder.
 * @param {string} title
 */
export function blankPage(title) {
  const dir = mkdtempSync(join(tmpdir(), "resocket-blank-"));
  writeFileSync(join(dir, "index.html"), `<!doctype html><meta charset="utf-8"><title>${title}</title>`);
  return {
    mounts: ["--static-dir", "/pkg=pkg", "--static-dir", `/blank=${dir}`],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The browser names `launch` takes. */
export const BROWSERS = Object.keys(DRIVERS);

/**
 * Starts `browser` ("chromium", "firefox" or "webkit") through its driver; resolves to
 * a session with `open(url)` (a new tab), `tabs`, and `quit()`.
 */
export async function launch(browser) {
  const driver = DRIVERS[browser];
  const port = await freePort();
  // Its own process group, so that stopping it stops what it started.
  const child = spawn(driver.command(), driver.args(port), { stdio: "ignore", detached: true });
  let spawnError = null;
  child.once("error", (error) => (spawnError = error));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`${browser} WebDriver ${method} ${path}: HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const { error, message } = answer.value ?? {};
      throw new Error(`${browser} WebDriver ${method} ${path}: ${error}: ${message}`);
    }
    return answer.value;
  };
  try {
    // The driver needs a moment to listen.
    for (let tries = 0; ; tries++) {
      if (spawnError) throw new Error(`${browser}'s driver ${driver.command()} did not start: ${spawnError.message}`);
      try {
        await call("GET", "/status");
        break;
      } catch (error) {
        if (tries > 100) throw new Error(`${browser}'s driver did not start: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return await startSession(browser, driver, call, child);
  } catch (error) {
    stop(child);
    throw error;
  }
}

/** Opens the browser session on a listening driver: the object `launch` resolves to. */
async function startSession(browser, driver, call, child) {
  const { sessionId } = await call("POST", "/session", { capabilities: { alwaysMatch: driver.capabilities } });
  const session = `/session/${sessionId}`;
  const first = await call("GET", `${session}/window`);
  let current = first;
  let firstUsed = false;
  const focus = async (handle) => {
    if (current === handle) return;
    await call("POST", `${session}/window`, { handle });
    current = handle;
  };

  /** One tab: `run(fn, ...args)` runs `fn`'s source in it and resolves to what its promise resolves to. */
  class Tab {
    constructor(handle) {
      this.handle = handle;
      this.closed = false;
    }
    async run(fn, ...args) {
      await focus(this.handle);
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve((${fn.toString()})(...arguments[0]))
          .then((value) => done({ value }), (error) => done({ error: String(error && error.stack || error) }));`;
      const answer = await call("POST", `${session}/execute/async`, { script, args: [args] });
      if (answer.error) throw new Error(`in ${browser}: ${answer.error}`);
      return answer.value;
    }
    /**
     * Closes the tab the way a user does: its page is unloaded. Closing the
     * last tab ends the browser session: keep one open until `quit()`.
     */
    async close() {
      await focus(this.handle);
      // The answer lists the tabs left; commands need a current one.
      const left = await call("DELETE", `${session}/window`);
      this.closed = true;
      current = null;
      if (left.length > 0) await focus(left[0]);
    }
  }

  return {
    browser,
    /** Opens `url` in a new tab (the first call uses the window the browser started with). */
    async open(url) {
      let handle = first;
      if (firstUsed) ({ handle } = await call("POST", `${session}/window/new`, { type: "tab" }));
      firstUsed = true;
      await focus(handle);
      await call("POST", `${session}/timeouts`, { script: 60_000 });
      await call("POST", `${session}/url`, { url });
      return new Tab(handle);
    },
    async quit() {
      try {
        await call("DELETE", session);
      } finally {
        stop(child);
      }
    },
  };
}
