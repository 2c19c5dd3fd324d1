# Sourced by bench/run.sh: what it reads from a running server (/proc and Keygate's /metrics).

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
orgs_cached() { curl -sf "$1/metrics" | awk '/^keygate_orgs_cached/ {print $2}'; }
live_sessions() { curl -sf "$1/metrics" | awk '/^keygate_sessions_live/ {print $2}'; }
logins_done() { curl -sf "$1/metrics" | awk '/^keygate_legacy_logins_total\{outcome="SUCCESS"\}/ {n = $2} END {print n + 0}'; }
drain_logins() {
    local last=-1 now
    for _ in $(seq 1 30); do
        now=$(logins_done "$1")
        [ "$now" = "$last" ] && return 0
        last=$now
        sleep 1
    done
}

# settle_and_collect PID : the server idles, then runs a full GC, so its resident memory holds no garbage.
settle_and_collect() {
    sleep 2
    dotnet "$load_dll" gc --pid "$1"
    sleep 1
}
