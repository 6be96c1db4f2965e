// Turns bench/run.mjs's report into bench/RESULTS.md (one table per browser,
// every figure with its ratio to the raw WebSocket on the same page) and
// bench/results.svg (every client's ratio to raw per row, with its spread
// over the rounds), which RESULTS.md shows.

const CLIENT_ORDER = ["raw", "resocket", "resocket-baseline", "reconnecting-websocket", "partysocket", "socket.io-client"];
const PAYLOAD_ROWS = [
  ["text-100B", "echo throughput, 100 B text (msg/s)"],
  ["text-1KiB", "echo throughput, 1 KiB text (msg/s)"],
  ["text-16KiB", "echo throughput, 16 KiB text (msg/s)"],
  ["binary-1KiB", "echo throughput, 1 KiB binary (msg/s)"],
];

export function median(values) {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const number = (value, digits = 0) =>
  value === null || value === undefined ? "n/a" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

// "value (ratio×)" with the ratio to raw; `higherIsBetter` only decides nothing
// here (the ratio is always client / raw), it is stated in the row label.
function cell(value, raw, digits, extra = "") {
  if (value === null || value === undefined) return "n/a";
  const ratio = raw ? ` (${(value / raw).toFixed(2)}×)` : "";
  return `${number(value, digits)}${extra}${ratio}`;
}

// Per browser: one object of summary figures per client.
export function summarise(run) {
  const summary = {};
  for (const key of CLIENT_ORDER) {
    const client = run.clients?.[key];
    if (!client) continue;
    const throughput = {};
    for (const [payload] of PAYLOAD_ROWS) {
      const values = client.throughput[payload] ?? [];
      throughput[payload] = { median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values.length };
    }
    const firstMessage = (client.firstMessageMs ?? []).filter((value) => value !== null);
    const throttled = (run.firstMessageThrottledMs?.[key] ?? []).filter((value) => value !== null);
    summary[key] = {
      name: client.name,
      otherServer: client.otherServer,
      throughput,
      taskUsPerMessage: median(client.taskUsPerMessage["text-1KiB"] ?? []),
      taskUs: Object.fromEntries(PAYLOAD_ROWS.map(([payload]) => [payload, median(client.taskUsPerMessage[payload] ?? [])])),
      firstMessageMs: median(firstMessage),
      firstMessageMax: firstMessage.length ? Math.max(...firstMessage) : null,
      firstThrottledMs: median(throttled),
      firstThrottledMax: throttled.length ? Math.max(...throttled) : null,
      rttP50: percentile(client.rtt, 50),
      rttP99: percentile(client.rtt, 99),
      rttSamples: client.rtt.length,
      reconnectMedian: median(client.reconnectMs),
      reconnectMax: client.reconnectMs.length ? Math.max(...client.reconnectMs) : null,
      heapGrowth:
        client.memory?.heapAfterBytes == null || client.memory?.heapBeforeBytes == null
          ? null
          : client.memory.heapAfterBytes - client.memory.heapBeforeBytes,
      heapGrowthSecond:
        client.memory?.heapAfterSecondBytes == null || client.memory?.heapAfterBytes == null
          ? null
          : client.memory.heapAfterSecondBytes - client.memory.heapAfterBytes,
      wasmAfter: client.memory?.wasmAfterBytes ?? null,
      wasmBefore: client.memory?.wasmBeforeBytes ?? null,
      cycles: client.memory?.cycles,
    };
  }
  return summary;
}

// The rows where resocket is below 0.9× raw or behind a peer on the same
// server, said in words (issue 6 asks for exactly that list).
function behind(summary) {
  const resocket = summary.resocket;
  const raw = summary.raw;
  const peers = ["reconnecting-websocket", "partysocket"].filter((key) => summary[key]);
  const notes = [];
  const check = (label, value, rawValue, peerValue, higherIsBetter) => {
    if (value === null || rawValue === null) return;
    const ratio = value / rawValue;
    // Differences under 2% are within what one run can tell apart.
    const worse = (a, b) => (higherIsBetter ? a < b * 0.98 : a > b * 1.02);
    if (higherIsBetter ? ratio < 0.9 : ratio > 1 / 0.9) notes.push(`${label}: ${ratio.toFixed(2)}× raw`);
    for (const key of peers) {
      const other = peerValue(summary[key]);
      if (other !== null && worse(value, other)) notes.push(`${label}: behind ${summary[key].name} (${number(value, value >= 100 ? 0 : 3)} vs ${number(other, other >= 100 ? 0 : 3)})`);
    }
  };
  for (const [payload, label] of PAYLOAD_ROWS) {
    check(label.replace("echo throughput, ", "throughput "), resocket.throughput[payload].median, raw.throughput[payload].median, (c) => c.throughput[payload].median, true);
  }
  check("RTT p50 (ms)", resocket.rttP50, raw.rttP50, (c) => c.rttP50, false);
  check("RTT p99 (ms)", resocket.rttP99, raw.rttP99, (c) => c.rttP99, false);
  for (const [payload, label] of PAYLOAD_ROWS) {
    const size = label.replace("echo throughput, ", "").replace(" (msg/s)", "");
    check(`task time per message, ${size} (µs)`, resocket.taskUs[payload], raw.taskUs[payload], (c) => c.taskUs[payload], false);
  }
  check("first message after a page load, loopback (ms)", resocket.firstMessageMs, raw.firstMessageMs, (c) => c.firstMessageMs, false);
  check("first message, throttled (ms)", resocket.firstThrottledMs, raw.firstThrottledMs, (c) => c.firstThrottledMs, false);
  return notes.length
    ? [
        "**Where resocket is behind** (below 0.9× raw, or more than 2% behind a peer on the same server; compare with the spreads above):",
        "",
        ...notes.map((note) => `- ${note}`),
      ]
    : ["resocket is at or above 0.9× raw and ahead of the peers on every row."];
}

/** Whether the report is of a `--quick` run (a smoke test). */
export function isQuick(report) {
  return Object.values(report.runs).some((run) => run.config?.quick);
}

/** What a quick run's output must say before and after its figures. */
export const QUICK_WARNING =
  "QUICK RUN: one round with a tenth of the messages, a smoke test that the benchmark works. Its figures are noise (a client can read 3× raw in one try); read a full run (scripts/bench, 5 rounds).";

export function renderMarkdown(report) {
  const lines = [
    "# Benchmark results",
    "",
    ...(isQuick(report) ? [`**${QUICK_WARNING}**`, ""] : []),
    `Taken ${report.date.slice(0, 10)} by \`scripts/bench\` (\`bench/run.mjs\`) on ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}. ` +
      "Every client talks to the same resocket-server echo endpoint on loopback, except socket.io-client (†), which needs a socket.io server (Node) and so is not a like-for-like row. " +
      "Clients are interleaved and each throughput figure is the median of the rounds (spread: min–max); ratios are to the raw browser WebSocket on the same page. The machine is shared and noisy: compare ratios, not absolute figures.",
    "",
    "![Every client's ratio to the raw WebSocket, per row and browser, with the spread over the rounds](results.svg)",
    "",
  ];
  for (const [browser, run] of Object.entries(report.runs)) {
    lines.push(`## ${browser} (${run.version ?? "unknown version"})`, "");
    if (run.error) {
      lines.push(`The run failed: \`${run.error.split("\n")[0]}\``, "");
      continue;
    }
    const summary = summarise(run);
    const keys = CLIENT_ORDER.filter((key) => summary[key]);
    const raw = summary.raw;
    lines.push(`| | ${keys.map((key) => summary[key].name).join(" | ")} |`, `|---|${keys.map(() => "---:").join("|")}|`);
    for (const [payload, label] of PAYLOAD_ROWS) {
      lines.push(
        `| ${label} | ${keys
          .map((key) => {
            const t = summary[key].throughput[payload];
            return `${cell(t.median, raw.throughput[payload].median, 0)}<br>${number(t.min)}–${number(t.max)}`;
          })
          .join(" | ")} |`,
      );
    }
    lines.push(`| RTT p50, one in flight (ms) | ${keys.map((key) => cell(summary[key].rttP50, raw.rttP50, 3)).join(" | ")} |`);
    lines.push(`| RTT p99 (ms) | ${keys.map((key) => cell(summary[key].rttP99, raw.rttP99, 3)).join(" | ")} |`);
    for (const [payload, label] of PAYLOAD_ROWS) {
      if (raw.taskUs[payload] === null) continue;
      lines.push(
        `| main-thread task time per message, ${label.replace("echo throughput, ", "").replace(" (msg/s)", "")} echo (µs) | ${keys
          .map((key) => cell(summary[key].taskUs[payload], raw.taskUs[payload], 1))
          .join(" | ")} |`,
      );
    }
    if (raw.firstMessageMs !== null) {
      lines.push(
        `| time to the first message after a page load, loopback (ms, median / max) | ${keys
          .map((key) => `${cell(summary[key].firstMessageMs, raw.firstMessageMs, 1)} / ${number(summary[key].firstMessageMax, 1)}`)
          .join(" | ")} |`,
      );
    }
    if (raw.firstThrottledMs !== null) {
      lines.push(
        `| time to the first message, 150 ms RTT and 9 Mbit/s (ms, median / max) | ${keys
          .map((key) => `${cell(summary[key].firstThrottledMs, raw.firstThrottledMs, 0)} / ${number(summary[key].firstThrottledMax)}`)
          .join(" | ")} |`,
      );
    }
    lines.push(
      `| reconnect after a server drop, close → open, first delay 100 ms (ms, median / max) | ${keys
        .map((key) => `${cell(summary[key].reconnectMedian, raw.reconnectMedian, 0)} / ${number(summary[key].reconnectMax)}`)
        .join(" | ")} |`,
    );
    const kib = (bytes) => (bytes === null || bytes === undefined ? "n/a" : number(bytes / 1024));
    lines.push(
      `| JS heap growth over the first ${number(raw.cycles)} connect/close cycles (KiB, after GC) | ${keys
        .map((key) => kib(summary[key].heapGrowth))
        .join(" | ")} |`,
      `| JS heap growth over the next ${number(raw.cycles)} cycles: what a leak keeps adding (KiB) | ${keys
        .map((key) => kib(summary[key].heapGrowthSecond))
        .join(" | ")} |`,
    );
    lines.push(
      `| download, min + gzip -9 (bytes) | ${keys.map((key) => (key === "raw" ? "0 (built in)" : number(report.sizes[key]?.gzipBytes))).join(" | ")} |`,
    );
    lines.push("");
    lines.push(...behind(summary), "");
    const resocket = summary.resocket;
    lines.push(
      `resocket only: wasm memory ${number(resocket.wasmBefore / 1024)} KiB before and ${number(resocket.wasmAfter / 1024)} KiB after the 2 × ${number(resocket.cycles)} cycles; ` +
        `wasm compile ${number(run.startup?.compileMs, 2)} ms (median of 5), first \`init()\` (compile + instantiate + glue) ${number(run.startup?.initMs, 2)} ms. ` +
        `RTT from ${number(raw.rttSamples)} samples per client.` +
        (raw.taskUsPerMessage === null ? " Task time: this browser exposes no main-thread task metric to the page." : ""),
      "",
    );
  }
  const size = report.sizes.resocket;
  lines.push(
    "## Download sizes",
    "",
    "| client | min bytes | min + gzip -9 bytes |",
    "|---|---:|---:|",
    ...["resocket", "resocket-baseline", "reconnecting-websocket", "partysocket", "socket.io-client"]
      .filter((key) => report.sizes[key])
      .map(
        (key) => `| ${key}${key.startsWith("resocket") ? " (.wasm + glue)" : ""} | ${number(report.sizes[key].minBytes)} | ${number(report.sizes[key].gzipBytes)} |`,
      ),
    "",
    `resocket: .wasm ${number(size.wasmGzipBytes)} B + glue ${number(size.glueGzipBytes)} B gzip. Peers bundled with esbuild --minify from the versions pinned in bench/package-lock.json.`,
    "",
  );
  return lines.join("\n");
}

// ----- the chart -----

const COLORS = { resocket: "#d9480f", "resocket-baseline": "#f08c00", "reconnecting-websocket": "#1971c2", partysocket: "#2f9e44", "socket.io-client": "#7048e8" };

/**
 * Per round, `value / raw` (or `raw / value` for times): 1 is raw, above 1
 * better than raw. Rounds pair up because every client runs in every round.
 */
function roundRatios(values, rawValues, higherIsBetter) {
  const ratios = [];
  for (let i = 0; i < Math.min(values.length, rawValues.length); i++) {
    const [value, raw] = [values[i], rawValues[i]];
    if (!value || !raw) continue;
    ratios.push(higherIsBetter ? value / raw : raw / value);
  }
  return ratios;
}

/** The chart's rows for one browser: [label, { client: ratios }]. */
function chartRows(run) {
  const rows = [];
  const keys = CLIENT_ORDER.filter((key) => run.clients?.[key] && key !== "raw");
  const raw = run.clients.raw;
  for (const [payload, label] of PAYLOAD_ROWS) {
    const size = label.replace("echo throughput, ", "").replace(" (msg/s)", "");
    rows.push([`throughput, ${size}`, Object.fromEntries(keys.map((key) => [key, roundRatios(run.clients[key].throughput[payload] ?? [], raw.throughput[payload] ?? [], true)]))]);
  }
  for (const [payload, label] of PAYLOAD_ROWS.slice(0, 3)) {
    const size = label.replace("echo throughput, ", "").replace(" (msg/s)", "");
    const rawTask = raw.taskUsPerMessage?.[payload] ?? [];
    if (!rawTask.some((value) => value !== null)) continue;
    rows.push([`main-thread time per message, ${size}`, Object.fromEntries(keys.map((key) => [key, roundRatios(run.clients[key].taskUsPerMessage[payload] ?? [], rawTask, false)]))]);
  }
  if (raw.firstMessageMs?.length) {
    rows.push(["first message after load, loopback", Object.fromEntries(keys.map((key) => [key, roundRatios(run.clients[key].firstMessageMs ?? [], raw.firstMessageMs, false)]))]);
  }
  if (run.firstMessageThrottledMs?.raw?.length) {
    const rawTimes = run.firstMessageThrottledMs.raw;
    rows.push(["first message, throttled network", Object.fromEntries(keys.map((key) => [key, roundRatios(run.firstMessageThrottledMs[key] ?? [], rawTimes, false)]))]);
  }
  return { rows, keys };
}

const escapeXml = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * bench/results.svg: per browser, per row, each client's median ratio to
 * raw as a dot and its min–max over the rounds as a line. Right of the
 * dashed line (1 = raw) is better than raw: more messages per second, or
 * less time.
 */
export function renderChart(report) {
  const width = 860;
  const labelWidth = 270;
  const plotWidth = width - labelWidth - 30;
  const rowHeight = 14;
  const panels = Object.entries(report.runs)
    .filter(([, run]) => !run.error)
    .map(([browser, run]) => ({ browser, ...chartRows(run) }));
  const all = panels.flatMap((panel) => panel.rows.flatMap(([, ratios]) => Object.values(ratios).flat()));
  const max = Math.max(1.5, Math.ceil(Math.max(...all, 1) * 4) / 4);
  const x = (ratio) => labelWidth + (Math.min(ratio, max) / max) * plotWidth;
  const parts = [];
  let y = 30;
  const legendKeys = [...new Set(panels.flatMap((panel) => panel.keys))];
  parts.push(
    `<text x="10" y="18" font-weight="bold">Ratio to the raw WebSocket (1 = raw; right is better: more messages per second, less time). Dot: median of the rounds; line: min–max.</text>`,
  );
  let legendX = labelWidth;
  for (const key of legendKeys) {
    const name = (panels.map((panel) => report.runs[panel.browser].clients[key]?.name).find(Boolean) ?? key).replace(/ [\d.]+( †)?$/, "$1");
    parts.push(`<circle cx="${legendX + 5}" cy="${y}" r="4" fill="${COLORS[key] ?? "#000"}"/><text x="${legendX + 13}" y="${y + 4}">${escapeXml(name)}</text>`);
    legendX += 30 + name.length * 6.5;
  }
  y += 20;
  for (const panel of panels) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(panel.browser)}</text>`);
    y += 20;
    const top = y;
    for (const [label, ratios] of panel.rows) {
      parts.push(`<text x="10" y="${y + rowHeight * 0.5 * panel.keys.length + 4}">${escapeXml(label)}</text>`);
      panel.keys.forEach((key, i) => {
        const values = ratios[key] ?? [];
        const cy = y + i * rowHeight * 0.7 + 6;
        if (!values.length) return;
        const middle = median(values);
        parts.push(
          `<line x1="${x(Math.min(...values)).toFixed(1)}" x2="${x(Math.max(...values)).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="${COLORS[key] ?? "#000"}" stroke-width="2"/>`,
          `<circle cx="${x(middle).toFixed(1)}" cy="${cy}" r="3.5" fill="${COLORS[key] ?? "#000"}"><title>${escapeXml(`${key}: ${middle.toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`)}</title></circle>`,
        );
      });
      y += Math.max(rowHeight * 0.7 * panel.keys.length + 8, rowHeight + 6);
      parts.push(`<line x1="${labelWidth}" x2="${labelWidth + plotWidth}" y1="${y - 4}" y2="${y - 4}" stroke="#eee"/>`);
    }
    // Axis: 0, each 0.25, the raw line at 1.
    for (let tick = 0; tick <= max + 1e-9; tick += 0.25) {
      const tx = x(tick).toFixed(1);
      parts.push(`<line x1="${tx}" x2="${tx}" y1="${top}" y2="${y}" stroke="${tick === 1 ? "#333" : "#ddd"}"${tick === 1 ? ' stroke-dasharray="4 3"' : ""}/>`);
      if (Math.abs(tick * 2 - Math.round(tick * 2)) < 1e-9) parts.push(`<text x="${tx}" y="${y + 12}" text-anchor="middle" fill="#555">${tick}×</text>`);
    }
    y += 28;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/>${parts.join("")}</svg>\n`;
}
