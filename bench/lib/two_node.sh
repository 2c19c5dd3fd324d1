# Sourced by bench/run.sh --two-node: the hot path on PostgreSQL + Redis, first on one Keygate node directly,
# then on two nodes behind nginx, each next to the baseline measured the same way (directly, then behind the
# same nginx configuration) in the same run. Uses servers.sh, wrk.sh, probes.sh and cluster.sh.

two_node_bench() {
    cluster_prepare

    say "starting node 1 (fresh PostgreSQL database $pg_db, Redis prefix $redis_prefix; it migrates) and the baseline"
    with_baseline start_node node1 --Keygate:Cluster:HotPath=PerCallScript
    node1_url=$kg_url node1_pid=$kg_pid

    say "bench org on node 1: provider API, portal, legacy login"
    bench_org "$node1_url"

    say "one node, directly: hot path, $conns connections, $rounds x ${dur} s"
    warm_up "$base_url/api/v1/apiKeys" session.lua
    warm_up "$node1_url/api/v1/apiKeys" session.lua
    alternate one.kg "$node1_url/api/v1/apiKeys" one.base "$base_url/api/v1/apiKeys" session.lua

    # The same hot path with Keygate:Cluster:HotPath=Leases, on a node of its own beside node 1 (no change is
    # made while the bench runs, so the two modes sharing one Redis prefix do not meet).
    say "node L (Keygate:Cluster:HotPath=Leases), directly: hot path, $conns connections, $rounds x ${dur} s"
    start_node nodeL --Keygate:Cluster:HotPath=Leases --Keygate:Database:MigrateOnStart=false
    lease_url=$url
    # Node 1 was warmed by the org's setup before its own warm-up; a fresh process needs seconds more to reach
    # its steady state (tiered JIT: its first 2 s ran at a fifth of the later rate), so this node warms up thrice.
    for _ in 1 2 3; do warm_up "$lease_url/api/v1/apiKeys" session.lua; done
    alternate lease.kg "$lease_url/api/v1/apiKeys" lease.base "$base_url/api/v1/apiKeys" session.lua
    kill "$pid" 2>/dev/null || true

    # Node 2 starts after the bench session was opened, so it also loads it at start: this measures the hot
    # path on two nodes, whether or not sessions opened later are shared (issue 6 tests that).
    say "node 2 (MigrateOnStart off); nginx in front of both nodes, and in front of the baseline"
    start_node node2 --Keygate:Database:MigrateOnStart=false --Keygate:Cluster:HotPath=PerCallScript
    node2_url=$url node2_pid=$pid
    start_nginx lb-keygate "$(port_of "$node1_url")" "$(port_of "$node2_url")"
    lb_kg=$url
    start_nginx lb-baseline "$(port_of "$base_url")"
    lb_base=$url

    say "two nodes behind nginx: hot path, $conns connections, $rounds x ${dur} s"
    warm_up "$lb_base/api/v1/apiKeys" session.lua
    warm_up "$lb_kg/api/v1/apiKeys" session.lua
    local cpu1 cpu2
    cpu1=$(cpu_ticks "$node1_pid") cpu2=$(cpu_ticks "$node2_pid")
    alternate two.kg "$lb_kg/api/v1/apiKeys" two.base "$lb_base/api/v1/apiKeys" session.lua
    node1_cpu=$(calc %.1f "($(cpu_ticks "$node1_pid") - $cpu1) / $(getconf CLK_TCK)")
    node2_cpu=$(calc %.1f "($(cpu_ticks "$node2_pid") - $cpu2) / $(getconf CLK_TCK)")

    mkdir -p "$results"
    two_node_table | tee "$results/latest-two-node-$mode.md"
    rm -rf "$results/raw-two-node-$mode" && cp -r "$work/raw" "$results/raw-two-node-$mode"

    # Correctness, never timing: a run that measured errors, or one node only, is not a result.
    problems=()
    for k in one.kg one.base lease.kg lease.base two.kg two.base; do
        [ "${R[$k.non2xx]}" = 0 ] && [ "${R[$k.socket_errors]}" = 0 ] \
            || problems+=("$k: ${R[$k.non2xx]} non-2xx answers, ${R[$k.socket_errors]} socket errors")
    done
    awk "BEGIN { exit !($node1_cpu > 0 && $node2_cpu > 0) }" || problems+=("a node did no work behind nginx (CPU s: $node1_cpu / $node2_cpu)")
    if [ ${#problems[@]} -gt 0 ]; then
        printf 'BENCH CHECK FAILED: %s\n' "${problems[@]}"
        exit 1
    fi
    echo "bench checks passed (no errors, both nodes served)"
}

two_node_table() {
    cat <<EOF
## Two nodes behind nginx ($mode mode, $started)

Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/^Mem/ {print $2}') GiB,
.NET $(dotnet --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $("$nginx_bin" -v 2>&1 | cut -d' ' -f3); load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end.
Keygate on PostgreSQL ($(psql "$pg_conninfo" -Atc 'SHOW server_version' | cut -d' ' -f1)) and Redis; wrk: $threads threads, after a ${warm} s warm-up
$rounds round(s) of ${dur} s per load, the two sides of a comparison in turns; req/s is the mean of the rounds, p50 and
p99 the median. The nodes, nginx, the baseline and wrk all share the same cores.
$([ "$mode" = plumbing ] && echo "Plumbing mode checks that every step works: with 1 s loads its numbers mean nothing.")

| GET /api/v1/apiKeys on a live session, $conns connections | Keygate req/s | p50 | p99 | Baseline req/s | p50 | p99 | req/s ratio | p99 ratio |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(row "1 node, directly, per-call script (baseline directly)" one.kg)
$(row "1 node, directly, leases (baseline directly)" lease.kg)
$(row "2 nodes behind nginx (baseline behind nginx)" two.kg)

| Measure | Result |
|---|---:|
| req/s, leases node directly / baseline directly (target ≥ 0.75) | $(calc %.2f "${R[lease.kg.rps]} / ${R[lease.base.rps]}") |
| req/s, 2 nodes behind nginx / 1 node directly | $(calc %.2f "${R[two.kg.rps]} / ${R[one.kg.rps]}") |
| req/s, 2 nodes behind nginx / baseline directly | $(calc %.2f "${R[two.kg.rps]} / ${R[one.base.rps]}") |
| req/s, baseline behind nginx / baseline directly (what the proxy hop costs) | $(calc %.2f "${R[two.base.rps]} / ${R[one.base.rps]}") |
| CPU seconds of node 1 / node 2 during the runs behind nginx | $node1_cpu / $node2_cpu |
EOF
}
