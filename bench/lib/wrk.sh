# Sourced by bench/run.sh: wrk runs and their results, kept in the associative array R[KEY.field].

declare -A R
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# measure KEY URL SCRIPT CONNECTIONS THREADS SECONDS : wrk's results into R[KEY.*]. A scale run (KEY small.* or
# large.*) spreads its requests over the session ids seeded for that server.
measure() {
    local key=$1 target=$2 script=$3 c=$4 t=$5 d=$6 out="$work/raw/$1.txt"
    if [ -f "$work/${key%%.*}-ids.txt" ]; then export KG_IDS="$work/${key%%.*}-ids.txt"; fi
    wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s --latency -s "$BENCH_WRK/$script" "$target" >"$out"
    local line
    line=$(grep '^RESULT' "$out")
    for f in rps p50_us p99_us requests non2xx socket_errors; do R[$key.$f]=$(field "$f" "$line"); done
    line=$(grep '^LOGINS' "$out" || true)
    for f in ok busy other; do R[$key.$f]=$(field "$f" "$line"); done
}

# alternate A URL_A B URL_B SCRIPT : wrk on A and B in turns, $rounds times, so drift on a shared machine hits
# both alike; R[A.*], R[B.*] get the mean req/s and the median p50 and p99 of the rounds, and summed counts.
alternate() {
    local a=$1 a_url=$2 b=$3 b_url=$4 script=$5 r
    for r in $(seq 1 "$rounds"); do
        if [ $((r % 2)) -eq 1 ]; then
            measured "$a.$r" "$a_url" "$script"
            measured "$b.$r" "$b_url" "$script"
        else
            measured "$b.$r" "$b_url" "$script"
            measured "$a.$r" "$a_url" "$script"
        fi
    done
    aggregate "$a"
    aggregate "$b"
}

# measured KEY URL SCRIPT : one load of the alternation; when cpu_pid names the server of KEY's scenario (cpu_pid[hot.kg]
# for KEY hot.kg.2), also that server's CPU ticks over the load, R[KEY.ticks] (cpu_per_call in gateway.sh reads them).
declare -A cpu_pid
measured() {
    local key=$1 pid=${cpu_pid[${1%.*}]:-} before=0
    [ -z "$pid" ] || before=$(cpu_ticks "$pid")
    measure "$key" "$2" "$3" "$conns" "$threads" "$dur"
    [ -z "$pid" ] || R[$key.ticks]=$(( $(cpu_ticks "$pid") - before ))
}

aggregate() {
    local k=$1 f
    rounds_of() { for r in $(seq 1 "$rounds"); do echo "${R[$k.$r.$1]}"; done; }
    R[$k.rps]=$(rounds_of rps | awk '{s += $1} END {printf "%.1f", s / NR}')
    for f in p50_us p99_us; do R[$k.$f]=$(rounds_of "$f" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'); done
    for f in requests non2xx socket_errors; do R[$k.$f]=$(rounds_of "$f" | awk '{s += $1} END {print s}'); done
}

warm_up() { wrk -t"$threads" -c"$conns" -d"${warm}s" -s "$BENCH_WRK/$2" "$1" >/dev/null; }
