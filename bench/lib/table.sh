# Sourced by bench/run.sh once every scenario ran: the results table, from R[...] and the run's variables.

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
ms() { calc "%.2f ms" "${1:-0} / 1000"; }
row() { # LABEL KEY
    local k=$2 b=${2%%.*}.base
    echo "| $1 | $(calc %.0f "${R[$k.rps]}") | $(ms "${R[$k.p50_us]}") | $(ms "${R[$k.p99_us]}") | $(calc %.0f "${R[$b.rps]}") | $(ms "${R[$b.p50_us]}") | $(ms "${R[$b.p99_us]}") | $(calc %.2f "${R[$k.rps]} / ${R[$b.rps]}") | $(calc %.2f "${R[$k.p99_us]} / ${R[$b.p99_us]}") |"
}
leg() { # LABEL KEY : a row of the gateway table
    local proxy="$(cpu_per_call "$2" proxy_ticks) µs"
    [ "$2" != gw.direct ] || proxy="—"
    echo "| $1 | $(calc %.0f "${R[$2.rps]}") | $(ms "${R[$2.p50_us]}") | $(ms "${R[$2.p99_us]}") | $proxy | $(cpu_per_call "$2" up_ticks) µs |"
}
per_login() { calc %.1f "($2 - $1) * 1000 / $(getconf CLK_TCK) / ($3 > 0 ? $3 : 1)"; } # CPU ticks before, after; logins
verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "not met"; fi; }

table() {
    local logins=$((logins_after - logins_before)) logins1=$((logins_single - logins_after))
    local login_ok_rps cpu_per_login cpu_per_login1 per_session scale_ratio hot_ratio hot_p99 regen_p99 inconsistent
    login_ok_rps=$(calc %.1f "${R[login.kg.rps]} * ${R[login.kg.ok]} / (${R[login.kg.requests]} > 0 ? ${R[login.kg.requests]} : 1)")
    cpu_per_login=$(per_login "$cpu_before" "$cpu_after" "$logins")
    cpu_per_login1=$(per_login "$cpu_after" "$cpu_single" "$logins1")
    per_session=$(calc %.0f "(${R[mem.with_kib]} - ${R[mem.none_kib]}) * 1024 / $large")
    scale_ratio=$(calc %.2f "${R[large.rps]} / ${R[small.rps]}")
    hot_ratio=$(calc %.2f "${R[hot.kg.rps]} / ${R[hot.base.rps]}")
    hot_p99=$(calc %.2f "${R[hot.kg.p99_us]} / ${R[hot.base.p99_us]}")
    regen_p99=$(field p99_ms "$regen")
    inconsistent=$(field inconsistent "$regen")
    cat <<EOF
## Load benchmark ($mode mode, $started)

Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/^Mem/ {print $2}') GiB,
.NET $(dotnet --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end.
wrk: $threads threads; after a ${warm} s warm-up, $rounds round(s) of ${dur} s per load, the two sides of a comparison in
turns (the gateway's three legs in an order that rotates each round); req/s is the mean of the rounds, p50 and p99 the
median. Keygate, the baseline, the sample upstream, the bare proxy and wrk share the same cores.
$([ "$mode" = plumbing ] && echo "Plumbing mode checks that every step works: with 1 s loads and tiny counts its numbers mean nothing.")

| Scenario ($conns connections unless noted) | Keygate req/s | p50 | p99 | Baseline req/s | p50 | p99 | req/s ratio | p99 ratio |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(row "GET /api/v1/apiKeys on a live session (hot path)" hot.kg)
$(row "GET /api/v1/auth (session check only)" auth.kg)
$(row "POST /api/v1/auth logins, $login_conns connections (all answers)" login.kg)

$(gateway_table)

| Measure | Result | Target |
|---|---:|---|
| hot path req/s, Keygate / baseline | $hot_ratio | ≥ 0.75 ($(verdict "$hot_ratio >= 0.75")) |
| hot path p99, Keygate / baseline | $hot_p99 | ≤ 2 ($(verdict "$hot_p99 <= 2")) |
| hot path req/s with telemetry / without (Keygate:Telemetry:Enabled=false), in turns: $(calc %.0f "${R[hot.tel.rps]}") / $(calc %.0f "${R[hot.notel.rps]}") | $(calc %.2f "${R[hot.tel.rps]} / ${R[hot.notel.rps]}") | — |
| hot path ratio to the baseline with telemetry / without (the without-ratio scaled from the turns above) | $hot_ratio / $(calc %.2f "$hot_ratio * ${R[hot.notel.rps]} / ${R[hot.tel.rps]}") | drop ≤ 0.03 ($(verdict "$hot_ratio * ${R[hot.notel.rps]} / ${R[hot.tel.rps]} - $hot_ratio <= 0.03")) |
| logins answered 200 / 503 busy / other ($login_conns connections, ${login_dur} s) | ${R[login.kg.ok]} / ${R[login.kg.busy]} / ${R[login.kg.other]} | — |
| successful logins per second | $login_ok_rps | bounded by PBKDF2 |
| server CPU per login, $login_conns connections (utime+stime / $logins logins, queued ones included) | $cpu_per_login ms | — |
| server CPU per login, 1 connection ($logins1 logins) | $cpu_per_login1 ms | — |
| login latency on 1 connection, p50 / p99 | $(ms "${R[login1.kg.p50_us]}") / $(ms "${R[login1.kg.p99_us]}") | — |
| regenerate under read load ($readers readers): the first $regen_warmup after start (JIT still optimizing), p50 / p99 | $(field warmup_p50_ms "$regen") ms / $(field warmup_p99_ms "$regen") ms | — |
| regenerate under read load ($readers readers): the $regens after those, p50 / p99 / max | $(field p50_ms "$regen") ms / $regen_p99 ms / $(field max_ms "$regen") ms | p99 ≤ 20 ms ($(verdict "$regen_p99 <= 20")) |
| reads sent after a regenerate returned that saw an older key (all $((regen_warmup + regens)) regenerates) | $inconsistent of $(field reads "$regen") | 0 ($(verdict "$inconsistent == 0")) |
| hot path, $small orgs with live sessions: req/s, p99 | $(calc %.0f "${R[small.rps]}"), $(ms "${R[small.p99_us]}") | — |
| hot path, $large orgs with live sessions: req/s, p99 | $(calc %.0f "${R[large.rps]}"), $(ms "${R[large.p99_us]}") | — |
| req/s with $large orgs / with $small | $scale_ratio | ≥ 0.90 ($(verdict "$scale_ratio >= 0.90")) |
| server RSS after a full GC: ${R[mem.none_sessions]} vs ${R[large.sessions]} live sessions | $(calc %.1f "${R[mem.none_kib]} / 1024") MiB / $(calc %.1f "${R[mem.with_kib]} / 1024") MiB | — |
| server memory per live session | $per_session B | ≤ 2048 B ($(verdict "$per_session <= 2048")) |

Logins hash with the framework's PasswordHasher V3: PBKDF2-HMAC-SHA512, Keygate:PasswordHashIterations = 100,000
(default), at most one hash per core at once (Keygate:MaxConcurrentHashes), 503 beyond a 2 s wait. The scale runs
spread requests over $(wc -l <"$work/large-ids.txt") session ids of as many orgs. Allocations per call of the
obfuscation check: see the micro-benchmarks (Keygate.Bench).
EOF
}

# The gateway scenario's two tables (in the full table, and alone with --gateway-only).
gateway_table() {
    local gw_ratio gw_p99
    gw_ratio=$(calc %.2f "${R[gw.kg.rps]} / ${R[gw.bare.rps]}")
    gw_p99=$(calc %.2f "${R[gw.kg.p99_us]} / ${R[gw.bare.p99_us]}")
    cat <<EOF
| Gateway: GET $gw_path on the sample upstream, $conns connections | req/s | p50 | p99 | proxy CPU per call | upstream CPU per call |
|---|---:|---:|---:|---:|---:|
$(leg "upstream directly (wrk sends the identity token)" gw.direct)
$(leg "bare YARP proxy (no auth, no metering)" gw.bare)
$(leg "Keygate gateway (session cookie)" gw.kg)

| Gateway measure | Result | Target |
|---|---:|---|
| gateway req/s, Keygate / bare proxy | $gw_ratio | ≥ 0.85 ($(verdict "$gw_ratio >= 0.85")) |
| gateway p99, Keygate / bare proxy | $gw_p99 | ≤ 1.5 ($(verdict "$gw_p99 <= 1.5")) |
| bare proxy / upstream directly: req/s, p99 | $(calc %.2f "${R[gw.bare.rps]} / ${R[gw.direct.rps]}"), $(calc %.2f "${R[gw.bare.p99_us]} / ${R[gw.direct.p99_us]}") | — |
EOF
}

hot_table() { # bench/run.sh --hot-only
    cat <<EOF
## Hot path ($mode mode, $started, load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end)

$rounds round(s) of ${dur} s per load after a ${warm} s warm-up, Keygate and the baseline in turns; req/s is the mean of the
rounds, p50 and p99 the median.

| Scenario ($conns connections) | Keygate req/s | p50 | p99 | Baseline req/s | p50 | p99 | req/s ratio | p99 ratio |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(row "GET /api/v1/apiKeys on a live session (hot path)" hot.kg)
$(row "GET /api/v1/auth (session check only)" auth.kg)

| Measure | Result | Target (issue 18) |
|---|---:|---|
| hot path req/s, Keygate / baseline | $(calc %.2f "${R[hot.kg.rps]} / ${R[hot.base.rps]}") | ≥ 0.90 ($(verdict "${R[hot.kg.rps]} / ${R[hot.base.rps]} >= 0.90")) |
| hot path p99, Keygate / baseline | $(calc %.2f "${R[hot.kg.p99_us]} / ${R[hot.base.p99_us]}") | ≤ 1.3 ($(verdict "${R[hot.kg.p99_us]} / ${R[hot.base.p99_us]} <= 1.3")) |
| session check req/s, Keygate / baseline | $(calc %.2f "${R[auth.kg.rps]} / ${R[auth.base.rps]}") | ≥ 0.92 ($(verdict "${R[auth.kg.rps]} / ${R[auth.base.rps]} >= 0.92")) |
EOF
}
