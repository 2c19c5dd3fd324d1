#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing: apt-get directly as root, `sudo -n` when it
# needs no password, otherwise one line saying what is missing and the command to run, and a failing exit.
# Used by test.sh (chromium, wrk, prometheus, npm) and .ci/run (also postgresql-15, redis-server, nginx-light).
# Then, when npm is there, installs the pinned axe-core of the browser tests with `npm ci` in tests/axe (the
# registry's ordinary client and lock file; the test project copies axe.min.js from there into its output).
set -uo pipefail
cd "$(dirname "$0")/.."

axe() {
  command -v npm >/dev/null || return 0
  # npm ci leaves node_modules/.package-lock.json behind: newer than the lock file means it is installed.
  [ -f tests/axe/node_modules/axe-core/axe.min.js ] && [ tests/axe/node_modules/.package-lock.json -nt tests/axe/package-lock.json ] && return 0
  (cd tests/axe && npm ci --no-audit --no-fund --silent) || { echo "npm ci in tests/axe failed"; return 1; }
}

present() { # $1 = package: is what the tests use from it there?
  case "$1" in
    chromium) [ -x /usr/bin/chromium ] ;;
    postgresql-*) command -v pg_ctlcluster >/dev/null ;;
    nginx-light) command -v nginx >/dev/null ;;
    *) command -v "$1" >/dev/null ;; # wrk, redis-server: the package's own command
  esac
}

missing=()
for p in "$@"; do present "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && { axe; exit; }

if [ "$(id -u)" -eq 0 ]; then as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n env DEBIAN_FRONTEND=noninteractive)
else
  echo "missing test dependencies: ${missing[*]}; install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  exit 1
fi
"${as_root[@]}" apt-get update -qq >/dev/null
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null || { echo "apt-get install ${missing[*]} failed"; exit 1; }
axe
