#!/usr/bin/env bash
# Installs the system libraries the portal needs when they are missing (Debian/Ubuntu):
# WeasyPrint's Pango, DejaVu fonts (PDFs look the same on every machine), poppler-utils
# (tests read PDFs as text), faketime (CI runs the suite again at a night hour), pgbackrest and jq
# (the restore test, tests/deploy/test_backup_restore.py, runs the backup service's scripts), Chromium and npx
# for the browser tests and the Twilio API check ("with-browser"), and the wrk HTTP load generator
# for `make bench` ("with-bench"); "runtime" installs only what the portal itself needs (`make run`:
# WeasyPrint's libraries and the fonts, not the test tools). Arguments may be combined. With "with-browser" it also installs
# the journeys' axe-core (package.json, npm ci) into node_modules/ when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
runtime=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
want=("${runtime[@]}" poppler-utils faketime pgbackrest jq)
for arg in "$@"; do
  case "$arg" in
    runtime) want=("${runtime[@]}") ;;
    with-browser)
      want+=(chromium)
      # npx runs Stoplight Prism (Twilio's API check). Node may come from another package than
      # Debian's npm (NodeSource's nodejs ships npx and conflicts with it): only ask when missing.
      command -v npx >/dev/null 2>&1 || want+=(npm)
      ;;
    with-bench) want+=(wrk) ;;
    *) echo "system-deps.sh: unknown option $arg (runtime, with-browser, with-bench)" >&2; exit 2 ;;
  esac
done
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# axe-core for the journeys' accessibility checks, pinned by package.json and package-lock.json.
if [[ " $* " == *" with-browser "* ]] && [ ! -f "$ROOT/node_modules/axe-core/axe.min.js" ]; then
  echo "Installing axe-core (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
