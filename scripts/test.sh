#!/usr/bin/env bash
# Installs everything the tests need (idempotent) and runs all of them: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Database servers and the MQTT broker the tests use (this machine kind starts them; start them if not).
start_if_down() { # name, check command, start command
  if ! eval "$2" >/dev/null 2>&1; then
    echo "starting $1"
    eval "$3" >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.5; done
    echo "warning: $1 is not reachable; its tests will fail" >&2
  fi
}
if command -v pg_ctlcluster >/dev/null 2>&1; then
  start_if_down PostgreSQL "pg_isready -q -h 127.0.0.1 -p 5432" \
    'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main start'
fi
if command -v mariadbd >/dev/null 2>&1; then
  start_if_down MariaDB "mariadb-admin -h 127.0.0.1 -u root status" \
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
fi

# ---- Web UI (issue 7): chart assets (npm, pinned by frontend/package-lock.json) and the browser tests'
# programs (system Chromium driven by Playwright, nginx mimicking Home Assistant ingress). Idempotent.
if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  npm ci --prefix frontend --no-audit --no-fund
fi
npm run build --prefix frontend --silent
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== ruff"
ruff check app tests bench
ruff format --check app tests bench
echo "== mypy (strict)"
mypy
echo "== pytest"
mkdir -p test-artifacts
pytest -p no:cacheprovider "$@"
