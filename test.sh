#!/usr/bin/env bash
# Runs the whole test suite on SQLite, and a second time on PostgreSQL when KEYGATE_TEST_POSTGRES holds a
# server connection string (e.g. "Host=127.0.0.1;Username=postgres;Password=postgres"). Ends with one line
# "N passed, N failed", counted from the TRX reports.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$PWD/TestResults"
rm -rf "$results"

# Chromium and axe-core (through npm) for the browser tests, Prometheus for the metrics tests, wrk for the benchmark's plumbing test (.ci/run adds
# the PostgreSQL pass's own).
scripts/install-test-deps.sh chromium wrk prometheus npm || { echo "0 passed, 1 failed"; exit 1; }

dotnet build Keygate.slnx -c Release 2>&1 | grep -E "error|Warn|Build succeeded" | sort -u
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then echo "build failed"; echo "0 passed, 1 failed"; exit 1; fi

run() { # $1 = label; the environment says which database
  echo "== tests on $1"
  local log="$results/$1.log"; mkdir -p "$results"
  dotnet test Keygate.slnx -c Release --no-build --report-trx --results-directory "$results/$1" >"$log" 2>&1
  # A failure's name and the start of its message; the whole output stays in TestResults/<label>.log.
  awk '/^failed /{p=1; n=0} /^(passed|skipped) /{p=0} p && n++ < 12' "$log" | head -n 80
  tail -n 8 "$log"
}

KEYGATE_TEST_POSTGRES= run sqlite
if [ -n "${KEYGATE_TEST_POSTGRES:-}" ]; then run postgres; fi

passed=0; failed=0; trx=0
for f in $(find "$results" -name '*.trx'); do
  trx=$((trx + 1))
  counters=$(grep -o '<Counters [^>]*>' "$f")
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  x=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  e=$(echo "$counters" | sed -n 's/.* error="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${x:-0} + ${e:-0}))
  # Name every failed test, so a red run says what broke (messages are in the TRX under TestResults/).
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\)"[^>]*>' "$f" \
    | sed -n 's/.* testName="\([^"]*\)".*/FAILED ('"$(basename "$(dirname "$f")")"'): \1/p'
done
# A run that produced no report (a crash) is a failure, not silence.
expected=1; [ -n "${KEYGATE_TEST_POSTGRES:-}" ] && expected=2
if [ "$trx" -lt "$expected" ]; then failed=$((failed + 1)); echo "missing test report(s): $trx of $expected"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
