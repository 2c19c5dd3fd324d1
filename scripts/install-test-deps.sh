#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing: apt-get directly as root, `sudo -n` when it
# needs no password, otherwise one line saying what is missing and the command to run, and a failing exit.
# Used by test.sh (chromium, wrk, prometheus) and .ci/run (also postgresql-15, redis-server, nginx-light).
set -uo pipefail

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
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n env DEBIAN_FRONTEND=noninteractive)
else
  echo "missing test dependencies: ${missing[*]}; install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  exit 1
fi
"${as_root[@]}" apt-get update -qq >/dev/null
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null || { echo "apt-get install ${missing[*]} failed"; exit 1; }
