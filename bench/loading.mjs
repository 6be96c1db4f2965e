// How the .wasm should reach the page, measured: the package as it ships
// (the glue fetches resocket_bg.wasm beside it: two downloads, the second
// started once the first has run) against an "inline" build of the same
// package (the .wasm embedded in the glue as base64: one download, decoded in
// JavaScript). Prints the gzip size of each and the time from navigation to
// the transport's first "open" in headless Chromium, over loopback as is and
// with DevTools' network throttling (fresh context each round: nothing cached).
//
// node bench/loading.mjs [--rounds N]   (after scripts/build-pkg and cargo build -p resocket-server)
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { launchChromium, startServer } from "../e2e/support.mjs";
import { median } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: flags } = parseArgs({ options: { rounds: { type: "string", default: "15" } } });
const rounds = Number(flags.rounds);

const glue = readFileSync(join(ROOT, "pkg/resocket.js"), "utf8");
const wasm = readFileSync(join(ROOT, "pkg/resocket_bg.wasm"));
const URL_EXPRESSION = 'new URL("resocket_bg.wasm",import.meta.url)';
if (!glue.includes(URL_EXPRESSION)) throw new Error("pkg/resocket.js has no .wasm URL to inline");
// The bytes, decoded where the loader would have fetched them.
const inline = glue.replace(
  URL_EXPRESSION,
  `Uint8Array.from(atob(${JSON.stringify(wasm.toString("base64"))}),c=>c.charCodeAt(0))`,
);

const dir = mkdtempSync(join(tmpdir(), "resocket-loading-"));
writeFileSync(join(dir, "url.js"), glue);
copyFileSync(join(ROOT, "pkg/resocket_bg.wasm"), join(dir, "resocket_bg.wasm"));
writeFileSync(join(dir, "inline.js"), inline);
const page = (module, head = "") => `<!doctype html><meta charset="utf-8">${head}<script type="module">
  import { createTransport } from "./${module}";
  const server = new URLSearchParams(location.search).get("server");
  const transport = await createTransport({ url: server });
  transport.on("open", () => { window.openedAt = performance.now(); });
</script>`;
writeFileSync(join(dir, "url.html"), page("url.js"));
writeFileSync(join(dir, "inline.html"), page("inline.js"));
// The shipped package with the .wasm preloaded by the page: both downloads start at once.
writeFileSync(
  join(dir, "preload.html"),
  page("url.js", '<link rel="preload" href="resocket_bg.wasm" as="fetch" type="application/wasm" crossorigin>'),
);

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const sizes = { url: gz(Buffer.from(glue)) + gz(wasm), inline: gz(Buffer.from(inline)) };
sizes.preload = sizes.url;

const site = await startServer(["--static-dir", dir]);
const browser = await launchChromium();
// DevTools' "Fast 4G"-like profile: 150 ms round trip, 9 Mbit/s down.
const THROTTLED = { offline: false, latency: 150, downloadThroughput: (9e6 / 8) | 0, uploadThroughput: (1.5e6 / 8) | 0 };
const results = {};
try {
  const wsUrl = `${site.url.replace(/^http/, "ws")}/ws`;
  for (let round = 0; round < rounds; round++) {
    for (const network of ["loopback", "throttled"]) {
      // Interleaved: both variants see the same machine load.
      const variants = ["url", "preload", "inline"];
      for (const variant of round % 2 ? variants : variants.reverse()) {
        const context = await browser.newContext();
        const tab = await context.newPage();
        if (network === "throttled") {
          const cdp = await context.newCDPSession(tab);
          await cdp.send("Network.enable");
          await cdp.send("Network.emulateNetworkConditions", THROTTLED);
        }
        await tab.goto(`${site.url}/${variant}.html?server=${encodeURIComponent(wsUrl)}`);
        await tab.waitForFunction(() => window.openedAt !== undefined, null, { timeout: 60_000 });
        const openedAt = await tab.evaluate(() => window.openedAt);
        (results[`${variant} ${network}`] ??= []).push(openedAt);
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
  await site.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`loading: ${rounds} rounds, Chromium, from navigation to the first "open" (median ms)`);
const LABELS = {
  url: "as shipped (.wasm fetched)",
  preload: "as shipped, page preloads",
  inline: "inline (base64 in the glue)",
};
for (const variant of ["url", "preload", "inline"]) {
  const label = LABELS[variant];
  console.log(
    `  ${label.padEnd(28)} ${String(sizes[variant]).padStart(6)} B gzip   loopback ${median(results[`${variant} loopback`]).toFixed(1).padStart(6)} ms   throttled ${median(results[`${variant} throttled`]).toFixed(1).padStart(7)} ms`,
  );
}
