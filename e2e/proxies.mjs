// Debian's reverse proxies, each at its defaults, in front of one upstream:
// what most users' traffic passes through (DESIGN.md §10). Each proxy is
// started on a free loopback port with the shortest configuration its own
// documentation shows for "proxy everything to this address", and stopped
// by `stop()`. The configurations are the README's "Behind a reverse proxy"
// section, tested here.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { freePort } from "./support.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once something accepts connections on `port`. */
async function listening(port, what, child) {
  for (let tries = 0; tries < 200; tries++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${child.output}`);
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}: ${child.output}`);
}

/**
 * The configurations, by name: `(port, upstream, dir) → { command, args, file, text }`.
 * `upstream` is `host:port`; `dir` a scratch folder for the proxy's own files.
 */
export const PROXIES = {
  // nginx as most guides first show it: one proxy_pass. nginx speaks
  // HTTP/1.0 to the upstream and drops Upgrade, so WebSockets do not pass:
  // the very case the HTTP fallback exists for.
  "nginx (plain proxy_pass)": (port, upstream, dir) => nginx(port, dir, `proxy_pass http://${upstream};`),
  // nginx with the WebSocket lines of its documentation, and the
  // `Host $host` line most guides add (it drops the port).
  "nginx (WebSocket-aware)": (port, upstream, dir) =>
    nginx(
      port,
      dir,
      `proxy_pass http://${upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;`,
    ),
  // HAProxy's shortest HTTP configuration: its timeouts are required.
  haproxy: (port, upstream, dir) => ({
    command: "haproxy",
    args: ["-f", join(dir, "haproxy.cfg"), "-db"],
    file: join(dir, "haproxy.cfg"),
    text: `defaults
  mode http
  timeout connect 5s
  timeout client 50s
  timeout server 50s
frontend web
  bind 127.0.0.1:${port}
  default_backend app
backend app
  server app ${upstream}
`,
  }),
  // Caddy's reverse_proxy, with its automatic HTTPS off (no certificates on loopback).
  caddy: (port, upstream, dir) => ({
    command: "caddy",
    args: ["run", "--config", join(dir, "Caddyfile"), "--adapter", "caddyfile"],
    file: join(dir, "Caddyfile"),
    text: `{
	admin off
	auto_https off
	storage file_system ${dir}
}
http://127.0.0.1:${port} {
	bind 127.0.0.1
	reverse_proxy ${upstream}
}
`,
    env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  }),
  // Apache's mod_proxy_http with one ProxyPass: no `upgrade=websocket`, so
  // WebSockets do not pass (the fallback's case again).
  "apache (mod_proxy_http)": (port, upstream, dir) => ({
    command: "apache2",
    args: ["-f", join(dir, "httpd.conf"), "-DFOREGROUND"],
    file: join(dir, "httpd.conf"),
    text: `ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
DefaultRuntimeDir ${dir}
User nobody
Group nogroup
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so
ProxyPass / http://${upstream}/
ProxyPassReverse / http://${upstream}/
`,
  }),
};

/** An nginx configuration whose one location holds `location`. */
function nginx(port, dir, location) {
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
    mkdirSync(join(dir, temp), { recursive: true });
    // Its workers run as nobody when started as root.
    chmodSync(join(dir, temp), 0o777);
  }
  return {
    command: "nginx",
    args: ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", "stderr"],
    file: join(dir, "nginx.conf"),
    text: `daemon off;
pid ${dir}/nginx.pid;
worker_processes 1;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      ${location}
    }
  }
}
`,
  };
}

/**
 * Starts proxy `name` (a key of PROXIES) in front of `upstream`
 * (`host:port`), on `port` or a free one; resolves to `{ url, stop, output }`.
 */
export async function startProxy(name, upstream, port) {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), "resocket-proxy-"));
  chmodSync(dir, 0o755);
  const { command, args, file, text, env } = PROXIES[name](port, upstream, dir);
  writeFileSync(file, text);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  child.output = "";
  const keep = (chunk) => (child.output = (child.output + chunk).slice(-4000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  await listening(port, name, child);
  const stop = () =>
    new Promise((done) => {
      const finish = () => {
        rmSync(dir, { recursive: true, force: true });
        done();
      };
      if (child.exitCode !== null) return finish();
      child.once("exit", finish);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  return { url: `http://127.0.0.1:${port}`, stop, output: () => child.output };
}
