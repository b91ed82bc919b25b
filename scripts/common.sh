# Shared by scripts/run and scripts/test: the local stack and the Python environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "[seckill] $*"; }

# Start Redis, MariaDB and Kafka (installing what is missing) and export their URLs.
start_stack() {
  scripts/stack start
  eval "$(scripts/stack env)"
}

# A virtualenv in .venv with a lock file installed (again only when the lock files changed).
# The lock files pin every package, dependencies included, with their hashes; requirements*.txt
# say what the project asks for and pip-compile writes the locks from them (README, "Code health").
ensure_venv() {
  local lock=$1 stamp
  if [[ ! -x .venv/bin/pip ]]; then # a venv whose creation failed half-way has python, not pip
    say "creating .venv"
    python3 -m venv --clear .venv || {
      say "python3 -m venv failed; installing python3-venv"
      apt_install python3-venv
      python3 -m venv --clear .venv
    }
  fi
  stamp=".venv/.installed-$(cat requirements*.lock | sha256sum | cut -c1-16)-$(basename "$lock")"
  if [[ ! -e $stamp ]]; then
    say "installing $lock into .venv"
    .venv/bin/python -m pip install -q --require-hashes -r "$lock"
    touch "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}

# apt_install PACKAGE...: as root (sudo when needed), non-interactive, waiting for apt's lock.
apt_install() {
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

# Debian's Prometheus for the scrape test (seckill_site/tests/test_prometheus.py starts its own
# on a free port; the package's service is stopped if the package started one).
ensure_prometheus() {
  if ! command -v prometheus >/dev/null 2>&1; then
    say "installing Debian's prometheus for the scrape test"
    apt_install prometheus
    if command -v service >/dev/null 2>&1; then
      service prometheus stop >/dev/null 2>&1 || true
    fi
    pkill -x prometheus 2>/dev/null || true
  fi
}

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    apt_install chromium
  fi
}

# Node.js runs the page's challenge solver in sales/tests/test_challenge.py (the machine image has
# it; Debian's nodejs where it does not).
ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    say "installing Debian's nodejs for the challenge solver's test"
    apt_install nodejs
  fi
}

# Debian's docker-compose renders docker/compose.yml for seckill_site/tests/test_deploy.py (no
# Docker engine needed to render; none runs here).
ensure_compose() {
  if ! command -v docker-compose >/dev/null 2>&1; then
    say "installing Debian's docker-compose to check docker/compose.yml"
    apt_install --no-install-recommends docker-compose
  fi
}
