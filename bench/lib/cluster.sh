# Sourced by bench/run.sh --two-node: PostgreSQL, Redis and nginx for Keygate nodes. Uses $work, $pids, $kek,
# $root, $server_dll and the launch/listening functions of servers.sh.

# Npgsql "Host=…;Port=…;Username=…;Password=…" (the form of KEYGATE_TEST_POSTGRES) → libpq keywords for psql.
psql_conninfo() {
    local out="" pair pairs
    IFS=';' read -ra pairs <<<"$1"
    for pair in "${pairs[@]}"; do
        case ${pair%%=*} in
            [Hh]ost|[Ss]erver) out+=" host=${pair#*=}" ;;
            [Pp]ort) out+=" port=${pair#*=}" ;;
            [Uu]sername|[Uu]ser|"User ID") out+=" user=${pair#*=}" ;;
            [Pp]assword) out+=" password=${pair#*=}" ;;
        esac
    done
    echo "$out dbname=postgres"
}

# redis_ping HOST:PORT : true when Redis answers PONG (bash's /dev/tcp, so redis-cli is not needed).
redis_ping() {
    local reply=""
    { exec 3<>"/dev/tcp/${1%:*}/${1##*:}"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3>&-
    [[ $reply == +PONG* ]]
}

# A loopback port nothing listens on (nginx needs its port written in its configuration), below the kernel's
# ephemeral range: a port inside it may be taken by any outgoing connection (the test suite beside us makes
# thousands) before nginx binds it, which failed a run once with "Address already in use".
free_port() {
    local port low=32768 from=20000
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    ((low - from >= 1000)) || { from=1024 low=65536; } # an unusual range: anywhere, as before
    for _ in $(seq 1 50); do
        port=$((from + (RANDOM * 32768 + RANDOM) % (low - from)))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    return 1
}

# cluster_prepare : a fresh database and a Redis prefix of this run's own; cluster_cleanup removes both.
cluster_prepare() {
    pg_server=${BENCH_POSTGRES:-Host=127.0.0.1;Username=postgres;Password=postgres}
    redis=${BENCH_REDIS:-127.0.0.1:6379}
    nginx_bin=${BENCH_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    [ -x "$nginx_bin" ] || { echo "nginx is missing: apt-get install nginx-light (or set BENCH_NGINX)" >&2; exit 1; }
    command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 1; }
    redis_ping "$redis" || { echo "Redis does not answer at $redis (set BENCH_REDIS=host:port)" >&2; exit 1; }
    local suffix
    suffix=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
    pg_db="keygate_bench_$suffix" redis_prefix="kgbench$suffix:"
    pg_conninfo=$(psql_conninfo "$pg_server")
    psql "$pg_conninfo" -qc "CREATE DATABASE \"$pg_db\"" >/dev/null \
        || { echo "cannot create a database with BENCH_POSTGRES=$pg_server" >&2; exit 1; }
    # nginx's workers run as "nobody" when nginx starts as root: their folder must not sit inside the private $work.
    nginx_root=$(mktemp -d "${TMPDIR:-/tmp}/keygate-bench-nginx.XXXXXX")
    chmod 755 "$nginx_root"
}

# Called by run.sh's cleanup once every process has stopped.
cluster_cleanup() {
    [ -n "${pg_db:-}" ] && psql "$pg_conninfo" -qc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1
    if [ -n "${redis_prefix:-}" ] && command -v redis-cli >/dev/null; then
        redis-cli -h "${redis%:*}" -p "${redis##*:}" --scan --pattern "$redis_prefix*" \
            | xargs -r redis-cli -h "${redis%:*}" -p "${redis##*:}" del >/dev/null 2>&1
    fi
    [ -n "${nginx_root:-}" ] && rm -rf "$nginx_root"
    return 0
}

# start_node NAME [extra settings...] : a Keygate node on the run's PostgreSQL database and Redis; sets $pid and $url.
start_node() {
    local name=$1
    shift
    launch "$name" "$server_dll" --contentRoot "$root/src/Keygate.Server" \
        --Keygate:Database:Provider=Postgres --ConnectionStrings:Keygate="$pg_server;Database=$pg_db" \
        --Keygate:Redis:Configuration="$redis" --Keygate:Redis:Prefix="$redis_prefix" \
        --Keygate:KnownProxies:0=127.0.0.1 --Keygate:Secrets:KeyEncryptionKey="$kek" \
        --Keygate:Secrets:KeyFile="$work/$name/kek.key" "$@"
    listening "$name" "$pid"
}

# start_nginx NAME PORT... : nginx with docs/nginx-keygate.conf in front of the given loopback ports; sets $pid and $url.
start_nginx() {
    local name=$1 dir="$nginx_root/$1" port
    shift
    mkdir -p "$dir"
    port=$(free_port)
    awk -v port="$port" -v nodes="$*" '
        /#[[:space:]]*nodes[[:space:]]*$/ {
            if (!done) { n = split(nodes, p, " "); for (i = 1; i <= n; i++) printf "    server 127.0.0.1:%s max_fails=3 fail_timeout=10s;\n", p[i] }
            done = 1; next
        }
        /#[[:space:]]*listen[[:space:]]*$/ { printf "    listen 127.0.0.1:%s;\n", port; next }
        /#[[:space:]]*log[[:space:]]*$/ { print "    access_log off;"; next }
        { print }' "$root/docs/nginx-keygate.conf" >"$dir/keygate.conf"
    cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/keygate.conf;
}
EOF
    "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { echo "nginx $name exited: $(cat "$dir/error.log" "$work/$name.log")" >&2; return 1; }
        sleep 0.2
    done
    echo "nginx $name did not listen within 10 s" >&2
    return 1
}

port_of() { echo "${1##*:}"; }
