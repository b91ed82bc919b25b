# Shared by scripts/run and scripts/test: the local stack and the Python environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "[seckill] $*"; }

# Start Redis, MariaDB and Kafka (installing what is missing) and export their URLs.
start_stack() {
  scripts/stack start
  eval "$(scripts/stack env)"
}

# A virtualenv in .venv with the requirements installed (again only when they changed).
ensure_venv() {
  local requirements=$1 stamp
  if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    python3 -m venv .venv || {
      say "python3 -m venv failed; installing python3-venv"
      ${SUDO:-$([[ $(id -u) -eq 0 ]] || echo sudo)} apt-get install -y python3-venv python3-dev build-essential
      python3 -m venv .venv
    }
  fi
  stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$requirements")"
  if [[ ! -e $stamp ]]; then
    say "installing $requirements into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$requirements"
    touch "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}
