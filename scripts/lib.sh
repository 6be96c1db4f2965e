# Shared by scripts/demo, scripts/test, scripts/build-pkg. Source it; do not run it.
#
# Every ensure_* function checks before it installs (versions, not just presence),
# so a warm machine skips all of them in seconds. Nothing is downloaded from
# outside the package registries (crates.io, npm, Debian).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

# Tools built from crates.io, pinned so every machine runs the same ones.
WASM_PACK_VERSION="0.15.1"
GECKODRIVER_VERSION="0.37.1"
CARGO_FUZZ_VERSION="0.13.2"
# Debian packages: browsers, the driver that matches Debian's Chromium,
# Python for the gateway test's backend (e2e/gateway/backend.py), Redis
# and HAProxy for the cluster (the Redis engine's tests start their own
# redis-server on a free port; the service Debian starts is not used), and
# the reverse proxies the package is tested behind (e2e/proxies.test.mjs
# starts each on a free port; their own services are not used).
# WebKitGTK's driver and MiniBrowser (Safari's engine), with the X server
# it needs (xvfb-run).
APT_PACKAGES=(firefox-esr chromium chromium-driver python3 redis-server haproxy nginx-light caddy apache2
  webkit2gtk-driver xvfb xauth)

# wasm-pack must find these instead of downloading its own copies.
export GECKODRIVER="$CARGO_BIN/geckodriver"
export CHROMEDRIVER="/usr/bin/chromedriver"
# Next.js would otherwise try to phone home from the example builds.
export NEXT_TELEMETRY_DISABLED=1
# Our own output only; wasm-pack's "failed to get wasm-pack version" is harmless.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Each step shows the seconds since the script started, so a log tells how
# long every install and build took.
step() { printf '\n==> %s  [%d s]\n' "$*" "$SECONDS"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$REPO_ROOT/Cargo.lock"
}

ensure_rust_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

# ensure_cargo_tool BINARY CRATE VERSION: `BINARY --version` must print VERSION.
ensure_cargo_tool() {
  local binary="$1" crate="$2" version="$3"
  if [ -x "$CARGO_BIN/$binary" ] && "$CARGO_BIN/$binary" --version 2>/dev/null | grep -qw -- "$version"; then
    return
  fi
  step "cargo install $crate $version (compiles from crates.io; a few minutes)"
  # No --locked: the local crates index can lag behind the tools' lockfiles.
  cargo install "$crate" --version "$version" --force
}

ensure_apt_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  step "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# npm ci in DIR unless its node_modules is newer than its package-lock.json.
# With "install" as second argument, `npm install` instead: it still installs
# exactly the versions in the lockfile, but tolerates optional packages the
# registry cannot serve (see the Next.js example).
npm_ci_if_stale() {
  local dir="$1" command="${2:-ci}" stamp="$1/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
    return
  fi
  step "npm $command in ${dir#"$REPO_ROOT"/} (pinned in its package-lock.json)"
  (cd "$dir" && npm "$command" --no-audit --no-fund --loglevel=error)
}

# npm packages pinned in package-lock.json (wasm-opt, esbuild, playwright-core).
ensure_npm_tools() {
  npm_ci_if_stale "$REPO_ROOT"
}

# Everything the package build (and so the demo) needs: Rust's wasm32 target,
# and the npm tools pinned in package-lock.json (wasm-opt, esbuild, terser).
ensure_build_tools() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first"
  command -v npm >/dev/null || die "npm is missing: install Node.js 20+ first"
  ensure_rust_wasm_target
  ensure_npm_tools
}

# Everything the test suite needs on top: wasm-pack and wasm-bindgen for the
# browser tests (tests/*.rs), browsers and their drivers.
ensure_test_tools() {
  ensure_build_tools
  ensure_cargo_tool wasm-pack wasm-pack "$WASM_PACK_VERSION"
  ensure_cargo_tool wasm-bindgen wasm-bindgen-cli "$(wasm_bindgen_version)"
  [ -x "$CARGO_BIN/wasm-bindgen-test-runner" ] || ensure_cargo_tool wasm-bindgen-test-runner wasm-bindgen-cli "$(wasm_bindgen_version)"
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  ensure_apt_packages "${APT_PACKAGES[@]}"
  ensure_cargo_tool geckodriver geckodriver "$GECKODRIVER_VERSION"
}

# The fuzzer: nightly Rust (libFuzzer needs it) and cargo-fuzz, pinned.
ensure_fuzz_tools() {
  if ! rustup toolchain list | grep -q '^nightly'; then
    step "rustup toolchain install nightly (cargo-fuzz needs it)"
    rustup toolchain install nightly --profile minimal
  fi
  ensure_cargo_tool cargo-fuzz cargo-fuzz "$CARGO_FUZZ_VERSION"
}

# start_server ARGS...: runs the test server on a free loopback port.
# Sets SERVER_URL and SERVER_PID; stop_server (also run on exit) stops it.
SERVER_PID=""
SERVER_LOG=""
# The control endpoints are on (the browser tests drive faults through them)
# and pages from any loopback port may connect (wasm-bindgen-test-runner
# serves its page from one); the limits stay at their defaults.
start_server() {
  local binary="$REPO_ROOT/target/debug/resocket-server"
  [ -x "$binary" ] || (cd "$REPO_ROOT" && cargo build -q -p resocket-server)
  start_listening_process "$binary" --port 0 --enable-control \
    --allow-origin 'http://127.0.0.1:*' --allow-origin 'http://localhost:*' "$@"
}

# start_node_server: the same for examples/node-server (PROTOCOL.md's second server).
start_node_server() {
  start_listening_process node "$REPO_ROOT/examples/node-server/server.mjs" --port 0
}

# Runs COMMAND... in the background and waits for its "listening on URL" line.
start_listening_process() {
  SERVER_LOG="$(mktemp -t resocket-server.XXXXXX)"
  "$@" >"$SERVER_LOG" 2>"$SERVER_LOG.stderr" &
  SERVER_PID=$!
  trap stop_server EXIT
  local tries
  for tries in $(seq 1 100); do
    SERVER_URL="$(sed -n 's/^listening on //p' "$SERVER_LOG" | head -n 1)"
    [ -n "$SERVER_URL" ] && return
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG.stderr" >&2; die "the test server exited"; }
    sleep 0.1
  done
  die "the test server did not print its address within 10 s"
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
