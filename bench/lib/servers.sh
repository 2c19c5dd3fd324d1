# Sourced by bench/run.sh: starting and stopping the servers it measures. Uses $work, $pids, $kek, $root.

# launch NAME DLL ARGS... : starts a server on a port the kernel picks; sets $pid. listening NAME PID: sets $url.
launch() {
    local name=$1 dll=$2
    shift 2
    (cd "$work" && exec dotnet "$dll" --urls http://127.0.0.1:0 --Logging:LogLevel:Default=Warning \
        --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information "$@") >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

listening() {
    for _ in $(seq 1 360); do
        url=$(grep -o -m1 'Now listening on: http://127.0.0.1:[0-9]*' "$work/$1.log" | sed 's/Now listening on: //') || true
        [ -n "$url" ] && return 0
        kill -0 "$2" 2>/dev/null || { echo "$1 exited before listening" >&2; return 1; }
        sleep 0.5
    done
    echo "$1 did not start within 180 s" >&2
    return 1
}

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=()
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

start_keygate() { # NAME DATABASE [extra settings...] : returns once it listens
    local name=$1 db=$2
    shift 2
    launch "$name" "$server_dll" --contentRoot "$root/src/Keygate.Server" \
        --Keygate:Database:SqlitePath="$db" --Keygate:Secrets:KeyEncryptionKey="$kek" \
        --Keygate:Secrets:KeyFile="$work/$name/kek.key" "$@"
    listening "$name" "$pid"
}

# with_baseline START NAME ARGS... : starts the baseline, and Keygate with START NAME ARGS... while it boots; sets
# $kg_url, $kg_pid, $base_url, $base_pid and $token (the operator token Keygate made on its empty database: with
# stdout not a terminal it is in first-start-credentials.txt beside the KEK file, a folder of the node's own here).
with_baseline() {
    launch baseline "$baseline_dll" --contentRoot "$root/bench/Keygate.Baseline"
    base_pid=$pid
    "$@"
    kg_url=$url kg_pid=$pid
    token=$(grep -o -m1 'kgp_[A-Za-z0-9]*' "$work/$2/first-start-credentials.txt")
    listening baseline "$base_pid"
    base_url=$url
}

# bench_org URL : the benchmark org (Keygate.Load setup) on the server at URL; exports its session and login body.
bench_org() {
    dotnet "$load_dll" setup --url "$1" --token "$token" --out "$work/org"
    KG_SESSION=$(cat "$work/org/session.txt")
    export KG_SESSION KG_LOGIN_BODY="$work/org/login.json"
}
