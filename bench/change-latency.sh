#!/usr/bin/env bash
# A change's latency on a cluster with Keygate:Cluster:HotPath=Leases (issue 17): N nodes on one PostgreSQL database
# and one Redis, the bench org made on node 1, then Keygate.Load's regen scenario pointed at node 1 (regenerates one
# after another under read load; a regenerate returns only once every live lease has acknowledged it).
#   bench/change-latency.sh [NODES...]   default: 2 3 (one run per count); after a Release build
#   BENCH_HOT_PATH=PerCallScript         the same with the per-call script, for comparison
# Environment as bench/run.sh --two-node (BENCH_POSTGRES, BENCH_REDIS). Prints one REGEN line per node count.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hot_path=${BENCH_HOT_PATH:-Leases}
regens=${BENCH_REGENS:-200} warmup=${BENCH_REGEN_WARMUP:-100} readers=${BENCH_READERS:-4}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work=$(mktemp -d "${TMPDIR:-/tmp}/keygate-latency.XXXXXX")
pids=()
say() { echo "== $(date +%T) $*"; }
dll() { echo "$root/$1/bin/Release/net10.0/$2.dll"; }
server_dll=$(dll src/Keygate.Server Keygate.Server)
load_dll=$(dll bench/Keygate.Load Keygate.Load)
for lib in servers cluster; do source "$root/bench/lib/$lib.sh"; done
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop_all; cluster_cleanup; rm -rf "$work"' EXIT
kek=$(head -c 32 /dev/urandom | base64)

for nodes in "${@:-2 3}"; do
    for n in $nodes; do
        say "$n nodes ($hot_path), load average $(cut -d' ' -f1 /proc/loadavg)"
        cluster_prepare
        start_node "n$n-1" --Keygate:Cluster:HotPath="$hot_path"
        first=$url
        token=$(grep -o -m1 'kgp_[A-Za-z0-9]*' "$work/n$n-1/first-start-credentials.txt")
        for i in $(seq 2 "$n"); do start_node "n$n-$i" --Keygate:Cluster:HotPath="$hot_path" --Keygate:Database:MigrateOnStart=false; done
        dotnet "$load_dll" setup --url "$first" --token "$token" --out "$work/org$n" >/dev/null
        dotnet "$load_dll" regen --url "$first" --dir "$work/org$n" --count "$regens" --warmup "$warmup" --readers "$readers" \
            | grep '^REGEN' | sed "s/^REGEN/REGEN nodes=$n hot_path=$hot_path/"
        stop_all
        cluster_cleanup
        pg_db="" redis_prefix=""
    done
done
echo "load average at the end $(cut -d' ' -f1 /proc/loadavg)"
