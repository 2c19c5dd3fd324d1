#!/usr/bin/env bash
# Lints the OpenAPI document (/openapi/v1.json) with Redocly's recommended rules (redocly.yaml): 0 errors and
# 0 warnings, or a failing exit. Starts the built server (Release; built if missing) on a free loopback port
# with a throw-away SQLite database, fetches the document, stops the server and runs the pinned @redocly/cli.
# OPENAPI_OUT=<file> keeps the fetched document.
set -euo pipefail
cd "$(dirname "$0")/.."
redocly="@redocly/cli@2.77.0"
dll=src/Keygate.Server/bin/Release/net10.0/Keygate.Server.dll
[ -f "$dll" ] || dotnet build src/Keygate.Server -c Release -v q -nologo >/dev/null

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1 \
  Keygate__Database__SqlitePath="$work/keygate.db" Keygate__Secrets__KeyFile="$work/kek.key" \
  dotnet "$dll" --urls http://127.0.0.1:0 --contentRoot "$work" </dev/null >"$work/server.log" 2>&1 &
pid=$!

url=""
for _ in $(seq 1 120); do
  url=$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$url" ]; then echo "the server did not start:"; tail -n 20 "$work/server.log"; exit 1; fi

curl -fsS "$url/openapi/v1.json" -o "$work/openapi.json"
[ -n "${OPENAPI_OUT:-}" ] && cp "$work/openapi.json" "$OPENAPI_OUT"
# redocly fails on errors only; a warning fails here too.
npx --yes "$redocly" lint --config redocly.yaml --format stylish "$work/openapi.json" 2>&1 | tee "$work/lint.log" | grep -v '^\s*$' | tail -n 40
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
if grep -qE 'You have [0-9]+ warning' "$work/lint.log"; then echo "OpenAPI lint: warnings count as failures"; exit 1; fi
