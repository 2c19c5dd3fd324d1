#!/usr/bin/env bash
# Load benchmark: Keygate next to a bare ASP.NET Core baseline (bench/Keygate.Baseline), and Keygate's gateway next
# to a bare YARP proxy (bench/Keygate.BareProxy) of the same sample upstream, all on 127.0.0.1, all driven by wrk in
# the same run, so the ratios hold on a noisy shared machine.
#   bench/run.sh              full run (3 alternating rounds of 10 s per load, 200 regenerates, 1,000 vs 100,000 orgs)
#   bench/run.sh --quick      4 s per load, under 2 minutes once built
#   bench/run.sh --plumbing   every step with tiny durations and counts (the test suite runs this)
#   bench/run.sh --two-node   instead of the above: the hot path on PostgreSQL + Redis, one node directly, then
#                             two nodes behind nginx (combine with --quick or --plumbing); needs PostgreSQL
#                             (BENCH_POSTGRES, an Npgsql connection string; default the local server as postgres/postgres),
#                             Redis (BENCH_REDIS, default 127.0.0.1:6379), nginx and psql
#   --gateway-only            only the gateway scenario (its table goes to bench/results/latest-gateway-<mode>.md);
#                             with BENCH_PERF=FILE, one more Keygate leg then runs under `perf record -g` into FILE
#   --hot-only                only the hot path and the session check against the baseline, in alternating rounds
#                             (full mode: 3 x 10 s each, about 2 minutes once built; table in latest-hot-<mode>.md);
#                             BENCH_PERF=FILE records one more Keygate hot-path load as above (BENCH_PERF_ROUTE=/api/v1/auth:
#                             the session check's instead)
#   --no-build                use the Release build that is already there
# Prints the results table and writes it, with wrk's raw output, to bench/results/. Every load targets
# 127.0.0.1 only and ends by itself (bounded durations and counts).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mode=full
build=1
two_node=0
gateway_only=0
hot_only=0
for arg in "$@"; do
    case $arg in
        --quick) mode=quick ;;
        --plumbing) mode=plumbing ;;
        --two-node) two_node=1 ;;
        --gateway-only) gateway_only=1 ;;
        --hot-only) hot_only=1 ;;
        --no-build) build=0 ;;
        *) echo "usage: bench/run.sh [--quick|--plumbing] [--two-node|--gateway-only|--hot-only] [--no-build]" >&2; exit 2 ;;
    esac
done
case $mode in
    full) rounds=3; dur=10; warm=5; regens=200; regen_warmup=1000; small=1000; large=100000 ;;
    quick) rounds=1; dur=4; warm=2; regens=50; regen_warmup=300; small=1000; large=100000 ;;
    plumbing) rounds=2; dur=1; warm=1; regens=10; regen_warmup=5; small=10; large=100 ;;
esac
conns=64 login_conns=16 readers=16 threads=2

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DEBIAN_FRONTEND=noninteractive
export BENCH_WRK="$root/bench/wrk"
results="$root/bench/results"
work=$(mktemp -d "${TMPDIR:-/tmp}/keygate-bench.XXXXXX")
pids=()

cleanup() {
    local status=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; }; done
    fi
    if declare -F cluster_cleanup >/dev/null; then cluster_cleanup; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $(date +%T) $*"; }
dll() { echo "$root/$1/bin/Release/net10.0/$2.dll"; }
server_dll=$(dll src/Keygate.Server Keygate.Server)
baseline_dll=$(dll bench/Keygate.Baseline Keygate.Baseline)
load_dll=$(dll bench/Keygate.Load Keygate.Load)
seed_dll=$(dll bench/Keygate.Seed Keygate.Seed)
upstream_dll=$(dll samples/Keygate.SampleUpstream Keygate.SampleUpstream)
bare_dll=$(dll bench/Keygate.BareProxy Keygate.BareProxy)

if [ "$build" -eq 1 ]; then
    say "building Release"
    dotnet build "$root/Keygate.slnx" -c Release -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
fi
for f in "$server_dll" "$baseline_dll" "$load_dll" "$seed_dll" "$upstream_dll" "$bare_dll"; do
    [ -f "$f" ] || { echo "missing $f: run without --no-build" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
    say "installing wrk (Debian package)"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; } \
        || { echo "wrk is missing and could not be installed: apt-get install wrk" >&2; exit 1; }
fi

for lib in servers wrk probes table gateway; do source "$root/bench/lib/$lib.sh"; done

mkdir -p "$work/raw"
kek=$(head -c 32 /dev/urandom | base64)
load_start=$(cut -d' ' -f1 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')

if [ "$two_node" -eq 1 ]; then
    for lib in cluster two_node; do source "$root/bench/lib/$lib.sh"; done
    two_node_bench
    exit 0
fi

# perf resolves JIT-compiled frames through the runtime's /tmp/perf-<pid>.map.
# Without W^X the JIT's code sits at the addresses the map names (with it, perf shows bare addresses).
if [ -n "${BENCH_PERF:-}" ]; then export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0; fi
say "starting Keygate (fresh SQLite database, a gateway route to the sample upstream) and the baseline"
gateway_settings
with_baseline start_keygate keygate "$work/keygate.db" "${gw_settings[@]}"
if [ "$hot_only" -eq 0 ]; then
    say "starting the sample upstream and the bare YARP proxy in front of it"
    start_upstreams
fi

say "bench org: provider API, portal, legacy login"
bench_org "$kg_url"

if [ "$gateway_only" -eq 1 ]; then
    say "gateway: GET $gw_path on the upstream directly, behind a bare YARP proxy, behind Keygate, $conns connections, $rounds x ${dur} s each"
    gateway_bench
    if [ -n "${BENCH_PERF:-}" ]; then
        say "perf: one more Keygate leg, recorded into $BENCH_PERF"
        perf record -F 999 -g -p "$kg_pid" -o "$BENCH_PERF" -- sleep "$dur" >"$work/perf.log" 2>&1 &
        perf_pid=$!
        gateway_leg gw.kg.perf
        wait "$perf_pid"
    fi
    mkdir -p "$results"
    { echo "## Gateway scenario ($mode mode, $started, load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end)"
      echo; gateway_table; } | tee "$results/latest-gateway-$mode.md"
    for k in gw.direct gw.bare gw.kg; do
        [ "${R[$k.non2xx]}" = 0 ] || { echo "BENCH CHECK FAILED: $k: ${R[$k.non2xx]} non-2xx answers"; exit 1; }
    done
    echo "bench checks passed (no errors)"
    exit 0
fi

say "hot path and session check, $conns connections, $rounds x ${dur} s each"
warm_up "$base_url/api/v1/apiKeys" session.lua
warm_up "$kg_url/api/v1/apiKeys" session.lua
# The servers' CPU per answered call beside req/s: steadier on a shared machine (wrk and both servers share 2 cores).
cpu_pid[hot.base]=$base_pid cpu_pid[hot.kg]=$kg_pid cpu_pid[auth.base]=$base_pid cpu_pid[auth.kg]=$kg_pid
alternate hot.base "$base_url/api/v1/apiKeys" hot.kg "$kg_url/api/v1/apiKeys" session.lua
# Each route warms up before its own loads: the session check's code paths are still being tiered up otherwise.
warm_up "$base_url/api/v1/auth" session.lua
warm_up "$kg_url/api/v1/auth" session.lua
alternate auth.base "$base_url/api/v1/auth" auth.kg "$kg_url/api/v1/auth" session.lua

if [ "$hot_only" -eq 1 ]; then
    if [ -n "${BENCH_PERF:-}" ]; then
        say "perf: one more Keygate load of ${BENCH_PERF_ROUTE:-/api/v1/apiKeys}, recorded into $BENCH_PERF"
        perf record -F 999 -g -p "$kg_pid" -o "$BENCH_PERF" -- sleep "$dur" >"$work/perf.log" 2>&1 &
        perf_pid=$!
        measure hot.perf "$kg_url${BENCH_PERF_ROUTE:-/api/v1/apiKeys}" session.lua "$conns" "$threads" "$dur"
        wait "$perf_pid"
    fi
    mkdir -p "$results"
    hot_table | tee "$results/latest-hot-$mode.md"
    for k in hot.kg auth.kg hot.base auth.base; do
        [ "${R[$k.non2xx]}" = 0 ] || { echo "BENCH CHECK FAILED: $k: ${R[$k.non2xx]} non-2xx answers"; exit 1; }
    done
    echo "bench checks passed (no errors)"
    exit 0
fi

say "gateway: GET $gw_path on the upstream directly, behind a bare YARP proxy, behind Keygate, $conns connections, $rounds x ${dur} s each"
gateway_bench
stop_server "$bare_pid"
stop_server "$up_pid"
say "hot path with and without telemetry (Keygate:Telemetry:Enabled=false: Keygate's meter only), $rounds x ${dur} s each"
# A second Keygate on the same database (it loads the bench session from it), in turns with the first.
start_keygate notel "$work/keygate.db" --Keygate:Telemetry:Enabled=false
notel_url=$url notel_pid=$pid
warm_up "$notel_url/api/v1/apiKeys" session.lua
warm_up "$notel_url/api/v1/apiKeys" session.lua # a fresh process on a busy machine may answer nothing in the first
alternate hot.tel "$kg_url/api/v1/apiKeys" hot.notel "$notel_url/api/v1/apiKeys" session.lua
stop_server "$notel_pid"

say "logins, $login_conns connections, then 1 connection"
# At least 3 s: a login costs ~100 ms of CPU, and in 1 s on a busy machine (the plumbing test runs beside the
# rest of the suite) 16 connections may see no answer at all.
login_dur=$((dur > 3 ? dur : 3))
measure login.base "$base_url/api/v1/auth" login.lua "$login_conns" "$threads" "$login_dur"
cpu_before=$(cpu_ticks "$kg_pid") logins_before=$(logins_done "$kg_url")
measure login.kg "$kg_url/api/v1/auth" login.lua "$login_conns" "$threads" "$login_dur"
# Logins that were queued when wrk stopped still hash: count them and their CPU too.
drain_logins "$kg_url"
cpu_after=$(cpu_ticks "$kg_pid") logins_after=$(logins_done "$kg_url")
measure login1.kg "$kg_url/api/v1/auth" login.lua 1 1 "$login_dur"
drain_logins "$kg_url"
cpu_single=$(cpu_ticks "$kg_pid") logins_single=$(logins_done "$kg_url")

say "$regen_warmup + $regens regenerates under read load ($readers readers)"
dotnet "$load_dll" regen --url "$kg_url" --dir "$work/org" --count "$regens" --warmup "$regen_warmup" --readers "$readers" | tee "$work/raw/regen.txt"
regen=$(grep '^REGEN' "$work/raw/regen.txt")
stop_server "$base_pid"
stop_server "$kg_pid"

# Scale: seeded orgs, keys and live sessions (1,000 vs 100,000); wrk spreads requests over up to 1,000 of them.
seed() { # NAME ORGS
    say "$2 orgs: seeding"
    dotnet "$seed_dll" --db "$work/$1.db" --kek "$kek" --orgs "$2" --ids-out "$work/$1-ids.txt" --ids 1000
}
# Orgs are loaded into memory on their first call: warm up until every org of the ids is.
warm_orgs() { # NAME URL
    export KG_IDS="$work/$1-ids.txt"
    for _ in $(seq 1 10); do
        warm_up "$2/api/v1/apiKeys" sessions.lua
        [ "$(orgs_cached "$2")" -ge "$(wc -l <"$KG_IDS")" ] && return 0
    done
}
seed small "$small"
seed large "$large"

say "memory per live session"
# The same database, but no session is young enough to load: the server's memory without live sessions.
start_keygate large-empty "$work/large.db" --Keygate:SessionIdleMinutes=0
settle_and_collect "$pid"
R[mem.none_kib]=$(rss_kib "$pid") R[mem.none_sessions]=$(live_sessions "$url")
stop_server "$pid"
start_keygate large "$work/large.db"
large_url=$url large_pid=$pid
R[large.sessions]=$(live_sessions "$large_url")
settle_and_collect "$large_pid"
R[mem.with_kib]=$(rss_kib "$large_pid")

say "hot path with $small and with $large orgs, $rounds x ${dur} s each"
start_keygate small "$work/small.db"
small_url=$url small_pid=$pid
warm_orgs small "$small_url"
warm_orgs large "$large_url"
alternate small "$small_url/api/v1/apiKeys" large "$large_url/api/v1/apiKeys" sessions.lua
stop_server "$small_pid"
stop_server "$large_pid"

mkdir -p "$results"
table | tee "$results/latest-$mode.md"
rm -rf "$results/raw-$mode" && cp -r "$work/raw" "$results/raw-$mode"

# Correctness, never timing: a run that measured errors instead of the path it meant to is not a result.
problems=()
inconsistent=$(field inconsistent "$regen")
[ "$inconsistent" = 0 ] || problems+=("$inconsistent stale reads after a regenerate")
[ "$(field unknown "$regen")" = 0 ] && [ "$(field read_errors "$regen")" = 0 ] || problems+=("reads failed during regenerates: $regen")
for k in hot.kg auth.kg hot.base auth.base gw.direct gw.bare gw.kg hot.tel hot.notel small large; do
    [ "${R[$k.non2xx]}" = 0 ] || problems+=("$k: ${R[$k.non2xx]} non-2xx answers")
done
[ $(( ${R[login.kg.ok]:-0} + ${R[login1.kg.ok]:-0} )) -gt 0 ] || problems+=("no login succeeded")
[ $(( ${R[login.kg.other]:-0} + ${R[login1.kg.other]:-0} )) = 0 ] || problems+=("$(( ${R[login.kg.other]:-0} + ${R[login1.kg.other]:-0} )) logins answered neither 200 nor 503")
[ "${R[large.sessions]}" = "$large" ] || problems+=("the server loaded ${R[large.sessions]} of $large sessions")
[ "${R[mem.none_sessions]}" = 0 ] || problems+=("the memory baseline had ${R[mem.none_sessions]} sessions")
if [ ${#problems[@]} -gt 0 ]; then
    printf 'BENCH CHECK FAILED: %s\n' "${problems[@]}"
    exit 1
fi
echo "bench checks passed (no errors, 0 inconsistent reads)"
